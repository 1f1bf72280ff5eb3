"""Exercise 6: cost tracking, tokens and dollars per request, read from the traces.

Every LLM call is billed by the token. With autologging on, MLflow records on the trace
how many tokens each call used (``trace.info.token_usage``) and, when it knows the
model's price, what that cost in dollars (``trace.info.cost``). The prices come from a
catalog bundled with MLflow, or from your own price table: ``MLFLOW_MODEL_CATALOG_URI``
pointing at a folder of ``<provider>.json`` files (the tests use a local table with the
models ``gpt-4o-mini``, ``gpt-4o``, ``kata-small`` and ``kata-large``).

Build:

1. ``ask(question, model)``: one question through LangChain's real ``ChatOpenAI`` client,
   autologged.
2. ``request_costs(experiment_id)``: one ``RequestCost`` per traced request that called
   a chat model, read from the traces.
3. ``cost_by_model(costs)``: the bill per model.

MLflow APIs practised: ``mlflow.langchain.autolog``, ``mlflow.search_traces(locations=,
order_by=)``, ``TraceInfo.token_usage`` and ``TraceInfo.cost``, the span attribute
``mlflow.llm.model``.

``ChatOpenAI`` reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``: the tests point them at
a fake OpenAI server on 127.0.0.1 that reports token usage (one token per word), and
the same code bills real calls when they name the real endpoint.

Done looks like this: in the UI, each trace shows its token counts and cost; your
report adds them up to the same numbers.

Run the checks: ``uv run pytest exercises/module_07/test_ex06_cost_tracking.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow  # noqa: F401 - you will need these
from langchain_openai import ChatOpenAI  # noqa: F401

MODEL = "gpt-4o-mini"
MODEL_ATTRIBUTE = "mlflow.llm.model"  # the span attribute that names the model called


def ask(question: str, model: str = MODEL) -> str:
    """Ask ``model`` one question through LangChain's ``ChatOpenAI`` and return the reply's
    text, with MLflow's LangChain autologging on, so the call is one trace that records
    the model, its token usage and (when MLflow knows the model's price) its cost."""
    # TODO: turn on mlflow.langchain.autolog(), then ChatOpenAI(model=..., temperature=0)
    #       .invoke(question); the reply's text is its .content.
    raise NotImplementedError("ask: not written yet (see the TODO above)")


@dataclass
class RequestCost:
    """What one traced request used and cost."""

    trace_id: str
    model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None when MLflow could not price the model


def request_costs(experiment_id: str | None = None) -> list[RequestCost]:
    """The tokens and cost of every traced request that called a chat model, oldest first.

    Read them from the traces, as MLflow recorded them: ``trace.info.token_usage``
    (``input_tokens``, ``output_tokens``), ``trace.info.cost`` (``total_cost`` in dollars,
    or None) and the ``mlflow.llm.model`` attribute of the span that called the model.
    Traces without token usage are left out. ``experiment_id=None`` means the current
    experiment.
    """
    # TODO: search the traces (locations=[experiment_id] when given, oldest first), skip
    #       those without token usage, and build a RequestCost from each of the others.
    raise NotImplementedError("request_costs: not written yet (see the TODO above)")


@dataclass
class ModelCost:
    """The requests of one model, added up."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_requests: int = 0  # requests whose cost MLflow did not know (not in cost_usd)


def cost_by_model(costs: list[RequestCost]) -> dict[str, ModelCost]:
    """Add up requests, tokens and dollars per model (``"unknown"`` when a request's
    model is None); a request without a cost counts in ``unpriced_requests``."""
    # TODO: one ModelCost per model; add each request's numbers to its model's totals.
    raise NotImplementedError("cost_by_model: not written yet (see the TODO above)")
