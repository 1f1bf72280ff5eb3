"""Exercise 7: A/B between two models, quality against cost.

A bigger model usually answers better and always costs more. Which one to
run is a business decision: the cheapest model whose quality meets the bar.
MLflow gives both halves of the answer: the evaluation run's metrics say how
good each model is, and the traces say what each request cost. With
autologging on, every LLM call's span records its token usage, and MLflow
prices it from a model price catalog: ``trace.info.token_usage`` and
``trace.info.cost`` (in dollars) sum a trace's calls.

The app calls the model through LangChain's ``ChatOpenAI``, which reads
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` from the environment. The tests
serve two fake models on 127.0.0.1, ``kata-small`` (knows half the answers)
and ``kata-large`` (knows them all), and a local price table; with your own
key and real model names the same code compares real models (the plan's
"Ollama vs OpenAI": point ``make_app`` at ``ChatOllama`` for the other side).

Build:

1. ``make_app(model)``: the app, with LangChain autologging on.
2. ``correct``: the quality scorer.
3. ``evaluate_model(model, data)``: one evaluation run per model, named and tagged.
4. ``cost_quality_table(run_ids)``: quality, tokens and cost per request of each
   run, read back from the runs and their traces.
5. ``cheapest_meeting_bar(table, quality_bar)``: the decision.

MLflow APIs practised: ``mlflow.langchain.autolog``, ``mlflow.genai.evaluate``
inside ``mlflow.start_run``, ``mlflow.get_run``, ``mlflow.search_traces(run_id=...)``,
``TraceInfo.token_usage`` and ``TraceInfo.cost``.

Done looks like this: in the UI, one run per model with ``correct/mean``; its
traces show a CHAT_MODEL span with tokens and cost; your table says which
model to run for a given quality bar.

Run the checks: ``uv run pytest exercises/module_06/test_ex07_ab_models.py``
"""

from __future__ import annotations

from collections.abc import Callable

import mlflow  # noqa: F401 - you will need these
from langchain_openai import ChatOpenAI  # noqa: F401
from mlflow.genai.scorers import scorer  # noqa: F401

MODEL_TAG = "model"
PROMPT = "Answer in one short phrase: {question}"


def make_app(model: str) -> Callable[[str], str]:
    """The app under test, asking ``model`` through LangChain's ``ChatOpenAI``.

    ``predict(question)`` sends ``PROMPT`` filled with the question and returns the
    reply's text. ``ChatOpenAI`` reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``
    from the environment. Turn on ``mlflow.langchain.autolog()`` so that every call
    is a CHAT_MODEL span with its token usage, which MLflow prices: the trace's
    ``info.cost``.
    """
    # TODO: turn on LangChain autologging, make a ChatOpenAI for the model, and return a
    #       predict(question) function that invokes it with PROMPT and returns the text.
    raise NotImplementedError("make_app: not written yet (see the TODO above)")


def correct(outputs: str, expectations: dict) -> bool:
    """True when the answer contains ``expectations["expected_response"]``, ignoring case."""
    # TODO: make this a scorer and check that the expected response is in the answer.
    raise NotImplementedError("correct: not written yet (see the TODO above)")


def evaluate_model(model: str, data: list[dict]) -> str:
    """Evaluate ``make_app(model)`` on ``data`` with ``correct``, in a run named ``model``
    and tagged ``MODEL_TAG`` = ``model``. Returns the run id."""
    # TODO: start a named, tagged run; evaluate inside it; return the run id.
    raise NotImplementedError("evaluate_model: not written yet (see the TODO above)")


def cost_quality_table(run_ids: list[str]) -> list[dict]:
    """Quality against cost, one row per evaluation run, read from the store.

    Each row is ``{"model", "quality", "requests", "tokens_per_request",
    "cost_per_request"}``: the run's ``MODEL_TAG`` tag, its ``correct/mean``
    metric, the number of traces the run recorded, and the mean over those traces
    of their total tokens (``info.token_usage["total_tokens"]``) and of their total
    cost in dollars (``info.cost["total_cost"]``). When a trace has no cost,
    ``cost_per_request`` is ``None``: nothing priced it.
    """
    # TODO: for each run: read its tag and metric, search its traces, average their
    #       tokens and costs.
    raise NotImplementedError("cost_quality_table: not written yet (see the TODO above)")


def cheapest_meeting_bar(table: list[dict], quality_bar: float) -> str | None:
    """The model of the cheapest row (lowest ``cost_per_request``) among the rows whose
    ``quality`` is at least ``quality_bar``; ``None`` when no row meets the bar."""
    # TODO: keep the rows that meet the bar, return the model of the cheapest one.
    raise NotImplementedError("cheapest_meeting_bar: not written yet (see the TODO above)")
