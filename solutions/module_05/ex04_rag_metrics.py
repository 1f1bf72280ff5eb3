"""Reference solution for module_05/ex04_rag_metrics: RAG metrics, logged to a run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow

HIT_RATE_KS = (1, 3)
RUN_NAME = "rag-evaluation"
RESULTS_TABLE = "rag_results.json"


def source_retrieval_rate(results: list[dict[str, Any]]) -> float:
    """The fraction of results whose ``expected_source`` is among their ``sources``
    (at any rank); ``0.0`` for no results."""
    if not results:
        return 0.0
    return sum(r["expected_source"] in r["sources"] for r in results) / len(results)


def hit_rate_at_k(results: list[dict[str, Any]], k: int) -> float:
    """The fraction of results whose ``expected_source`` is among their first ``k``
    ``sources``; ``0.0`` for no results."""
    if not results:
        return 0.0
    return sum(r["expected_source"] in r["sources"][:k] for r in results) / len(results)


def mean_reciprocal_rank(results: list[dict[str, Any]]) -> float:
    """The mean over all results of ``1 / rank``, where ``rank`` is the 1-based
    position of the first entry of ``sources`` equal to ``expected_source``; a
    result without it counts ``0``. ``0.0`` for no results."""
    if not results:
        return 0.0
    total = 0.0
    for r in results:
        if r["expected_source"] in r["sources"]:
            total += 1.0 / (r["sources"].index(r["expected_source"]) + 1)
    return total / len(results)


def mean_answer_length(results: list[dict[str, Any]]) -> float:
    """The mean number of characters of the ``answer``s; ``0.0`` for no results."""
    if not results:
        return 0.0
    return sum(len(r["answer"]) for r in results) / len(results)


def answer_match_rate(results: list[dict[str, Any]]) -> float:
    """The fraction of results whose ``answer`` contains their ``expected_answer``,
    ignoring case; ``0.0`` for no results."""
    if not results:
        return 0.0
    return sum(r["expected_answer"].lower() in r["answer"].lower() for r in results) / len(results)


def rag_metrics(results: list[dict[str, Any]]) -> dict[str, float]:
    """Every metric of ``results`` under its MLflow key:
    ``source_retrieval_rate``, ``hit_rate_at_1``, ``hit_rate_at_3`` (one per k of
    ``HIT_RATE_KS``), ``mrr``, ``mean_answer_length``, ``answer_match_rate``,
    and ``num_questions`` (the number of results)."""
    metrics = {"source_retrieval_rate": source_retrieval_rate(results)}
    metrics.update({f"hit_rate_at_{k}": hit_rate_at_k(results, k) for k in HIT_RATE_KS})
    metrics["mrr"] = mean_reciprocal_rank(results)
    metrics["mean_answer_length"] = mean_answer_length(results)
    metrics["answer_match_rate"] = answer_match_rate(results)
    metrics["num_questions"] = float(len(results))
    return metrics


def evaluate_rag(
    ask: Callable[[str], dict[str, Any]], questions: list[dict[str, Any]]
) -> dict[str, float]:
    """Ask every question and measure the answers.

    ``ask(question)`` returns ``{"answer": str, "sources": [file names, best first]}``
    (exercise 3's ``ask`` with the engine filled in); each item of ``questions``
    has ``question``, ``answer`` (the expected one) and ``source`` (the file it
    comes from), like ``fixtures.data.load_questions()``.

    Build one result per question, ``{"question", "answer", "sources",
    "expected_answer", "expected_source"}``, compute ``rag_metrics``, and log the
    metrics, and the results as the table artifact ``RESULTS_TABLE``
    (``mlflow.log_table``, one row per question), to the active run; when no run
    is active, to a new run named ``RUN_NAME`` that is ended before returning.

    Returns:
        The metrics, as logged.
    """
    results = []
    for item in questions:
        reply = ask(item["question"])
        results.append(
            {
                "question": item["question"],
                "answer": str(reply["answer"]),
                "sources": list(reply["sources"]),
                "expected_answer": item["answer"],
                "expected_source": item["source"],
            }
        )
    metrics = rag_metrics(results)

    # log_metrics alone would start a run and leave it open: choose the run explicitly.
    if mlflow.active_run() is not None:
        _log(metrics, results)
    else:
        with mlflow.start_run(run_name=RUN_NAME):
            _log(metrics, results)
    return metrics


def _log(metrics: dict[str, float], results: list[dict[str, Any]]) -> None:
    mlflow.log_metrics(metrics)
    # A table artifact: the UI shows it per question, mlflow.load_table reads it back.
    columns = ["question", "answer", "sources", "expected_answer", "expected_source"]
    mlflow.log_table(
        data={c: [r[c] for r in results] for c in columns}, artifact_file=RESULTS_TABLE
    )
