"""Checks for ex05_chunking_sweep: one parent run, a child run per configuration, the best kept.

The configurations are scored by a stand-in for the RAG pipeline with known
scores, so the right choice is known: (256, 50) and (512, 0) and (512, 100)
tie on source_retrieval_rate, and (256, 50) is tried first; (512, 100) has the
best mrr, which must not matter.
"""

import mlflow
import pytest

from fixtures.messages import shown
from fixtures.runs import all_runs

SCORES = {
    (256, 0): 0.75,
    (256, 50): 11 / 12,
    (256, 100): 10 / 12,
    (512, 0): 11 / 12,
    (512, 50): 10 / 12,
    (512, 100): 11 / 12,
    (1024, 0): 8 / 12,
    (1024, 50): 9 / 12,
    (1024, 100): 9 / 12,
}
BEST = (256, 50)


class StandIn:
    """evaluate_config for the sweep: known metrics, and a record of each call."""

    def __init__(self):
        self.calls = []

    def __call__(self, chunk_size: int, chunk_overlap: int) -> dict:
        run = mlflow.active_run()
        self.calls.append(((chunk_size, chunk_overlap), run.info.run_id if run else None))
        if run is not None:
            mlflow.log_metric("num_chunks", chunk_size + chunk_overlap)  # logged by the pipeline
        return {
            "source_retrieval_rate": SCORES.get((chunk_size, chunk_overlap), 0.0),
            "mrr": 0.9 if (chunk_size, chunk_overlap) == (512, 100) else 0.5,
        }


def config_of(run) -> tuple:
    """(chunk_size, chunk_overlap) from a run's params; a param that is missing or not a
    whole number is shown as it was logged."""

    def number(name: str):
        value = run.data.params.get(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            return value

    return (number("chunk_size"), number("chunk_overlap"))


def best_of(value) -> dict:
    """What sweep_chunking returned, checked to be a dict."""
    assert isinstance(value, dict), (
        f"expected sweep_chunking to return a dict with chunk_size, chunk_overlap, "
        f"source_retrieval_rate, run_id and parent_run_id; got {shown(value)}"
    )
    return value


def split_runs():
    runs = all_runs()
    parents = [r for r in runs if r.info.run_name == "chunking-sweep"]
    assert len(parents) == 1, (
        f"expected one parent run named 'chunking-sweep'; found runs "
        f"{sorted(r.info.run_name for r in runs)}"
    )
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return parent, children, runs


def test_each_configuration_is_a_child_run_of_one_parent_run(exercise):
    exercise.sweep_chunking(StandIn())

    parent, children, runs = split_runs()
    assert len(children) == len(SCORES) and len(runs) == len(SCORES) + 1, (
        f"expected {len(SCORES)} child runs nested in 'chunking-sweep' "
        "(mlflow.start_run(..., nested=True) inside the parent) and no other runs; found "
        f"{len(children)} children among {len(runs)} runs"
    )
    configs = sorted((config_of(r) for r in children), key=str)
    assert configs == sorted(SCORES, key=str), (
        f"expected the child runs to have the params chunk_size and chunk_overlap of "
        f"{sorted(SCORES)}; found {configs}"
    )
    assert mlflow.active_run() is None, "expected no run to be left active after the sweep"


def test_each_child_run_holds_the_metrics_of_its_configuration(exercise):
    exercise.sweep_chunking(StandIn())

    _, children, _ = split_runs()
    wrong = [
        f"{config_of(r)}: {r.data.metrics}"
        for r in children
        if config_of(r) not in SCORES
        or abs(r.data.metrics.get("source_retrieval_rate", -1) - SCORES[config_of(r)]) > 1e-9
        or "mrr" not in r.data.metrics
    ]
    assert children and not wrong, (
        "expected each child run to hold the metrics that evaluate_config returned for its "
        "configuration (source_retrieval_rate and mrr); wrong: " + "; ".join(wrong)
    )


def test_each_configuration_is_evaluated_inside_its_own_child_run(exercise):
    stand_in = StandIn()
    exercise.sweep_chunking(stand_in)

    _, children, _ = split_runs()
    child_of = {config_of(r): r.info.run_id for r in children}
    wrong = [
        f"{config} ran in {run_id}"
        for config, run_id in stand_in.calls
        if child_of.get(config) != run_id
    ]
    assert stand_in.calls and not wrong, (
        "expected evaluate_config(chunk_size, chunk_overlap) to be called while the child run "
        "of that configuration is active, so what the pipeline logs lands there; "
        + ("; ".join(wrong) or "it was never called")
    )
    with_chunks = [config_of(r) for r in children if "num_chunks" in r.data.metrics]
    assert len(with_chunks) == len(SCORES), (
        f"expected the metric num_chunks, logged by evaluate_config itself, on every child run; "
        f"found it on {with_chunks}"
    )


def test_the_best_configuration_is_recorded_on_the_parent_and_returned(exercise):
    best = best_of(exercise.sweep_chunking(StandIn()))

    parent, children, _ = split_runs()
    best_child = next((r for r in children if config_of(r) == BEST), None)
    expected = {
        "chunk_size": BEST[0],
        "chunk_overlap": BEST[1],
        "source_retrieval_rate": SCORES[BEST],
        "run_id": best_child.info.run_id if best_child else None,
        "parent_run_id": parent.info.run_id,
    }
    found = {k: best.get(k) for k in expected}
    assert found == expected, (
        f"expected the sweep to return {expected} (the highest source_retrieval_rate wins, "
        f"not the best mrr; on a tie the configuration tried first wins); got {shown(best, 600)}"
    )
    params, metrics = parent.data.params, parent.data.metrics
    assert (params.get("best_chunk_size"), params.get("best_chunk_overlap")) == ("256", "50"), (
        f"expected the params best_chunk_size=256 and best_chunk_overlap=50 on the parent run; "
        f"found {params}"
    )
    assert abs(metrics.get("best_source_retrieval_rate", -1) - SCORES[BEST]) < 1e-9, (
        f"expected the metric best_source_retrieval_rate={SCORES[BEST]:.4f} on the parent run; "
        f"found {metrics}"
    )


def test_configurations_whose_overlap_is_not_smaller_than_the_size_are_skipped(exercise):
    small_scores = {(50, 0): 0.5, (100, 0): 0.25, (100, 50): 0.75}

    def small(chunk_size, chunk_overlap):
        return {"source_retrieval_rate": small_scores.get((chunk_size, chunk_overlap), 0.0)}

    best = best_of(
        exercise.sweep_chunking(small, chunk_sizes=(50, 100), chunk_overlaps=(0, 50, 100))
    )

    _, children, _ = split_runs()
    configs = sorted((config_of(r) for r in children), key=str)
    assert configs == sorted(small_scores, key=str), (
        f"expected child runs only for the valid pairs {sorted(small_scores)} (the overlap must "
        f"be smaller than the size); found {configs}"
    )
    assert (best.get("chunk_size"), best.get("chunk_overlap")) == (100, 50), (
        f"expected (100, 50) to win with 0.75; got {shown(best, 600)}"
    )


def test_a_sweep_without_any_valid_pair_is_a_value_error(exercise):
    try:
        got = exercise.sweep_chunking(StandIn(), chunk_sizes=(50,), chunk_overlaps=(50, 100))
    except ValueError:
        return
    pytest.fail(
        "expected ValueError when no (chunk_size, chunk_overlap) pair is valid (sizes (50,), "
        f"overlaps (50, 100)); sweep_chunking returned {shown(got)}",
        pytrace=False,
    )
