"""Exercise 2: code scorers, from one answer to a whole evaluation.

A *scorer* turns one answer of your app into a number, a yes/no or a label.
Code scorers are plain Python functions decorated with ``@scorer``: MLflow
looks at their parameter names (``inputs``, ``outputs``, ``expectations``,
``trace``) and passes each what it asks for. Give them to
``mlflow.genai.evaluate`` and MLflow runs your app on every record of the
data, traces every call, runs every scorer on every trace, attaches the
values to the traces as *assessments* (source ``CODE``), and logs their
averages as ``<scorer name>/mean`` metrics of the evaluation run.

Build five scorers and one function:

1. ``exact_match``: is the answer the expected response (ignoring case and
   whitespace)?
2. ``facts_found``: which fraction of the expected facts does the answer contain?
3. ``answer_words``: how long is the answer, in words?
4. ``latency_ms``: how long did the app take? Read it from the trace.
5. ``span_count``: how many spans did the app record? Read it from the trace.
6. ``evaluate_app(predict_fn, data)``: evaluate an app with all five.

The tests evaluate a small question-answering app (a retriever and an LLM
step under one span, like the RAG of module 5) on four records whose
expectations hold an ``expected_response`` and ``expected_facts``.

MLflow APIs practised: ``mlflow.genai.scorers.scorer``, ``mlflow.genai.evaluate``,
``mlflow.entities.Trace`` (``trace.info.execution_time_ms``, ``trace.data.spans``).

Done looks like this: in the UI, the evaluation run lists the metrics
``exact_match/mean``, ``facts_found/mean``, ``answer_words/mean``,
``latency_ms/mean`` and ``span_count/mean``; its **Traces** tab shows each
row's trace with the five assessments beside it.

Run the checks: ``uv run pytest exercises/module_06/test_ex02_code_scorers.py``
"""

from __future__ import annotations

from collections.abc import Callable

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import Trace
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import scorer  # noqa: F401

SCORER_NAMES = ("exact_match", "facts_found", "answer_words", "latency_ms", "span_count")


def exact_match(outputs: str, expectations: dict) -> bool:
    """True when the answer is ``expectations["expected_response"]``, ignoring letter case
    and surrounding or repeated whitespace."""
    # TODO: make this a scorer (@scorer) and compare the two texts, normalized.
    raise NotImplementedError("exact_match: not written yet (see the TODO above)")


def facts_found(outputs: str, expectations: dict) -> float:
    """The fraction (0.0 to 1.0) of ``expectations["expected_facts"]`` that appear in the
    answer, each compared ignoring letter case."""
    # TODO: make this a scorer and count the expected facts contained in the answer.
    raise NotImplementedError("facts_found: not written yet (see the TODO above)")


def answer_words(outputs: str) -> int:
    """How many words (separated by whitespace) the answer has."""
    # TODO: make this a scorer and count the words.
    raise NotImplementedError("answer_words: not written yet (see the TODO above)")


def latency_ms(trace: Trace) -> int:
    """How long the app took to answer, in milliseconds, as its trace recorded it."""
    # TODO: make this a scorer that reads the duration from the trace's info.
    raise NotImplementedError("latency_ms: not written yet (see the TODO above)")


def span_count(trace: Trace) -> int:
    """How many spans the app's trace has (every span, not only the top-level ones)."""
    # TODO: make this a scorer that counts the spans in the trace's data.
    raise NotImplementedError("span_count: not written yet (see the TODO above)")


def evaluate_app(predict_fn: Callable[..., str], data: list[dict]) -> EvaluationResult:
    """Evaluate ``predict_fn`` on ``data`` with the five scorers of this file.

    ``data`` is a list of records ``{"inputs": {...}, "expectations": {...}}``;
    MLflow calls ``predict_fn(**inputs)`` once per record, traces the call, runs
    every scorer on it, and logs the per-row values on the traces and the
    averages (``<scorer>/mean``) in the evaluation run's metrics.
    """
    # TODO: call mlflow.genai.evaluate with the data, the app and the five scorers, and
    #       return its result.
    raise NotImplementedError("evaluate_app: not written yet (see the TODO above)")
