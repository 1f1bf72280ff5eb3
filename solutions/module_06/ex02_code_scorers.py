"""Reference solution for module_06/ex02_code_scorers: code scorers in mlflow.genai.evaluate."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
from mlflow.entities import Trace
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import scorer

SCORER_NAMES = ("exact_match", "facts_found", "answer_words", "latency_ms", "span_count")


def _normalized(text: str) -> str:
    return " ".join(str(text).split()).lower()


@scorer
def exact_match(outputs: str, expectations: dict) -> bool:
    """True when the answer is ``expectations["expected_response"]``, ignoring letter case
    and surrounding or repeated whitespace."""
    return _normalized(outputs) == _normalized(expectations["expected_response"])


@scorer
def facts_found(outputs: str, expectations: dict) -> float:
    """The fraction (0.0 to 1.0) of ``expectations["expected_facts"]`` that appear in the
    answer, each compared ignoring letter case."""
    facts = expectations["expected_facts"]
    answer = _normalized(outputs)
    return sum(_normalized(fact) in answer for fact in facts) / len(facts)


@scorer
def answer_words(outputs: str) -> int:
    """How many words (separated by whitespace) the answer has."""
    return len(str(outputs).split())


@scorer
def latency_ms(trace: Trace) -> int:
    """How long the app took to answer, in milliseconds, as its trace recorded it."""
    return trace.info.execution_time_ms


@scorer
def span_count(trace: Trace) -> int:
    """How many spans the app's trace has (every span, not only the top-level ones)."""
    return len(trace.data.spans)


def evaluate_app(predict_fn: Callable[..., str], data: list[dict]) -> EvaluationResult:
    """Evaluate ``predict_fn`` on ``data`` with the five scorers of this file.

    ``data`` is a list of records ``{"inputs": {...}, "expectations": {...}}``;
    MLflow calls ``predict_fn(**inputs)`` once per record, traces the call, runs
    every scorer on it, and logs the per-row values on the traces and the
    averages (``<scorer>/mean``) in the evaluation run's metrics.
    """
    # One call: a run, one trace per record, an assessment per scorer per trace.
    return mlflow.genai.evaluate(
        data=data,
        predict_fn=predict_fn,
        scorers=[exact_match, facts_found, answer_words, latency_ms, span_count],
    )
