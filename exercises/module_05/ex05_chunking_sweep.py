"""Exercise 5: choose the chunking by experiment, with parent and child runs.

Which chunk size and overlap suit your documents? Do not guess: try each
configuration, measure it, and let MLflow keep the score. A *sweep* is one
parent run with a nested child run per configuration; the UI then shows the
children under the parent, and you can compare them side by side (select them,
then "Compare") or sort them by ``source_retrieval_rate``.

Build ``sweep_chunking(evaluate_config, chunk_sizes, chunk_overlaps)``. It does
not build the RAG itself: ``evaluate_config(chunk_size, chunk_overlap)`` does,
and returns its metrics (the tests pass a stand-in with known scores). With
exercises 2-4 it is, for example::

    def evaluate_config(chunk_size, chunk_overlap):
        chunks = ingest_documents(spark, "documents", chunk_size, chunk_overlap)
        engine = build_query_engine(chunks_to_nodes(chunks), "mock", top_k=3)
        return evaluate_rag(lambda q: ask(engine, q), load_questions())

and ``uv run mlflow-spark-llamaindex-rag --llm-type mock --create-sample-docs
--sweep`` runs exactly that with the reference solutions.

MLflow APIs practised: ``mlflow.start_run(run_name=..., nested=True)``,
``mlflow.log_params``, ``mlflow.log_metrics``, the ``mlflow.parentRunId`` tag.

Done looks like this: the UI shows a run ``chunking-sweep`` with nine child
runs (sizes 256, 512, 1024 x overlaps 0, 50, 100) and, on the parent, the
params ``best_chunk_size`` and ``best_chunk_overlap`` and the metric
``best_source_retrieval_rate``.

Run the checks: ``uv run pytest exercises/module_05/test_ex05_chunking_sweep.py``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow  # noqa: F401 - you will need it

CHUNK_SIZES = (256, 512, 1024)
CHUNK_OVERLAPS = (0, 50, 100)
SELECTION_METRIC = "source_retrieval_rate"
PARENT_RUN_NAME = "chunking-sweep"


def sweep_chunking(
    evaluate_config: Callable[[int, int], dict[str, float]],
    chunk_sizes: tuple[int, ...] = CHUNK_SIZES,
    chunk_overlaps: tuple[int, ...] = CHUNK_OVERLAPS,
) -> dict[str, Any]:
    """Try every chunking configuration as a child run of one parent run; keep the best.

    - One parent run named ``PARENT_RUN_NAME``.
    - For each ``chunk_size`` of ``chunk_sizes`` (outer loop) and each
      ``chunk_overlap`` of ``chunk_overlaps`` (inner loop), skipping the pairs
      whose overlap is not smaller than the size: a child run nested in the
      parent (name it as you like) with the params ``chunk_size`` and
      ``chunk_overlap``; inside it, call ``evaluate_config(chunk_size,
      chunk_overlap)`` (so whatever it logs lands in the child run) and log the
      metrics it returns to the child run.
    - The best configuration has the highest ``SELECTION_METRIC``
      (``source_retrieval_rate``); on a tie, the one tried first wins.
    - On the parent run: the params ``best_chunk_size`` and ``best_chunk_overlap``
      and the metric ``best_source_retrieval_rate``.
    - No run is left active.

    Returns:
        ``{"chunk_size", "chunk_overlap", "source_retrieval_rate", "run_id"}`` of the
        best configuration (``run_id``: its child run), plus ``"parent_run_id"``.

    Raises:
        ValueError: no pair of ``chunk_sizes`` and ``chunk_overlaps`` is valid.
    """
    # TODO: start the parent run; for each valid (size, overlap) start a nested child run,
    #       log its params, call evaluate_config inside it and log the returned metrics; keep
    #       the first best by SELECTION_METRIC; log the best_* params and metric on the parent
    #       (still inside its `with` block) and return the dict described above.
    raise NotImplementedError("sweep_chunking: not written yet (see the TODO above)")
