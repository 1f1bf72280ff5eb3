"""Reference solution for module_05/ex05_chunking_sweep: choose chunking by experiment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow

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
    best: dict[str, Any] | None = None
    with mlflow.start_run(run_name=PARENT_RUN_NAME) as parent:
        for chunk_size in chunk_sizes:
            for chunk_overlap in chunk_overlaps:
                if chunk_overlap >= chunk_size:
                    continue  # not a valid configuration: the window would never move
                name = f"size={chunk_size} overlap={chunk_overlap}"
                # nested=True makes it a child: MLflow tags it with mlflow.parentRunId.
                with mlflow.start_run(run_name=name, nested=True) as child:
                    mlflow.log_params({"chunk_size": chunk_size, "chunk_overlap": chunk_overlap})
                    metrics = evaluate_config(chunk_size, chunk_overlap)
                    mlflow.log_metrics(metrics)
                score = metrics[SELECTION_METRIC]
                if best is None or score > best[SELECTION_METRIC]:  # strict: ties keep the first
                    best = {
                        "chunk_size": chunk_size,
                        "chunk_overlap": chunk_overlap,
                        SELECTION_METRIC: score,
                        "run_id": child.info.run_id,
                    }
        if best is None:
            raise ValueError("no valid (chunk_size, chunk_overlap) pair to try")
        mlflow.log_params(
            {"best_chunk_size": best["chunk_size"], "best_chunk_overlap": best["chunk_overlap"]}
        )
        mlflow.log_metric(f"best_{SELECTION_METRIC}", best[SELECTION_METRIC])
    return {**best, "parent_run_id": parent.info.run_id}
