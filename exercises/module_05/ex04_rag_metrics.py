"""Exercise 4: measure the RAG with retrieval and answer metrics, logged to an MLflow run.

"It answered something" is not a metric. A RAG can fail in two places: the
retriever can miss the document that holds the answer, and the LLM can miss
the answer in what was retrieved. So measure both, over a set of questions
whose source document and answer you know (``fixtures.data.load_questions()``):

- ``source_retrieval_rate``: how often the expected source is retrieved at all;
- ``hit_rate_at_k``: how often it is among the first ``k`` retrieved chunks;
- ``mrr`` (mean reciprocal rank): how high it is ranked (1 at the top, 1/2
  second, 1/3 third, 0 when missing), averaged;
- ``mean_answer_length`` and ``answer_match_rate``: how long the answers are,
  and how often they contain the expected answer.

A *result* here is a dict with ``question``, ``answer``, ``sources`` (the
retrieved chunks' file names, best first, one per chunk, so a file can repeat),
``expected_answer`` and ``expected_source``.

MLflow APIs practised: ``mlflow.active_run``, ``mlflow.start_run``,
``mlflow.log_metrics``, ``mlflow.log_table``.

Done looks like this: ``evaluate_rag(lambda q: ask(engine, q), load_questions())``
returns the metrics, and the MLflow UI shows them on a run ``rag-evaluation``
with a table ``rag_results.json`` of every question, answer and source.

Run the checks: ``uv run pytest exercises/module_05/test_ex04_rag_metrics.py``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow  # noqa: F401 - you will need it

HIT_RATE_KS = (1, 3)
RUN_NAME = "rag-evaluation"
RESULTS_TABLE = "rag_results.json"


def source_retrieval_rate(results: list[dict[str, Any]]) -> float:
    """The fraction of results whose ``expected_source`` is among their ``sources``
    (at any rank); ``0.0`` for no results."""
    # TODO: count the results whose expected_source is in their sources; divide by their number.
    raise NotImplementedError("source_retrieval_rate: not written yet (see the TODO above)")


def hit_rate_at_k(results: list[dict[str, Any]], k: int) -> float:
    """The fraction of results whose ``expected_source`` is among their first ``k``
    ``sources``; ``0.0`` for no results."""
    # TODO: like source_retrieval_rate, but only look at the first k sources.
    raise NotImplementedError("hit_rate_at_k: not written yet (see the TODO above)")


def mean_reciprocal_rank(results: list[dict[str, Any]]) -> float:
    """The mean over all results of ``1 / rank``, where ``rank`` is the 1-based
    position of the first entry of ``sources`` equal to ``expected_source``; a
    result without it counts ``0``. ``0.0`` for no results."""
    # TODO: for each result, 1 / (1-based position of expected_source in sources), or 0
    #       when it is missing; average over all results.
    raise NotImplementedError("mean_reciprocal_rank: not written yet (see the TODO above)")


def mean_answer_length(results: list[dict[str, Any]]) -> float:
    """The mean number of characters of the ``answer``s; ``0.0`` for no results."""
    # TODO: the average len() of the answers.
    raise NotImplementedError("mean_answer_length: not written yet (see the TODO above)")


def answer_match_rate(results: list[dict[str, Any]]) -> float:
    """The fraction of results whose ``answer`` contains their ``expected_answer``,
    ignoring case; ``0.0`` for no results."""
    # TODO: count the answers that contain the expected answer, both lower-cased.
    raise NotImplementedError("answer_match_rate: not written yet (see the TODO above)")


def rag_metrics(results: list[dict[str, Any]]) -> dict[str, float]:
    """Every metric of ``results`` under its MLflow key:
    ``source_retrieval_rate``, ``hit_rate_at_1``, ``hit_rate_at_3`` (one per k of
    ``HIT_RATE_KS``), ``mrr``, ``mean_answer_length``, ``answer_match_rate``,
    and ``num_questions`` (the number of results)."""
    # TODO: a dict with every metric above under its key (one hit_rate_at_<k> per k of
    #       HIT_RATE_KS) and num_questions.
    raise NotImplementedError("rag_metrics: not written yet (see the TODO above)")


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
    # TODO: ask each question and build its result dict; compute rag_metrics; log the
    #       metrics (mlflow.log_metrics) and the results (mlflow.log_table) to the active run,
    #       or inside `with mlflow.start_run(run_name=RUN_NAME):` when none is active.
    raise NotImplementedError("evaluate_rag: not written yet (see the TODO above)")
