"""``uv run mlflow-tracking-example``: the reference solution of
module_01/ex02_basic_tracking against a local store, so you can see a fully
tracked run in the MLflow UI before (or after) writing your own.
"""

from __future__ import annotations

import os

from examples import DEFAULT_URI, how_to_look, load_solution

EXAMPLE_EXPERIMENT = "mlflow-tracking-example"


def tracking_example() -> None:
    """Train the reference ex02 model in a tracked run and say how to look at it."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    print(f"Tracking to {uri} (set MLFLOW_TRACKING_URI to use another store)...", flush=True)

    setup = load_solution("module_01/ex01_mlflow_setup.py")
    tracking = load_solution("module_01/ex02_basic_tracking.py")
    experiment_id = setup.setup_mlflow(
        EXAMPLE_EXPERIMENT, tracking_uri=uri, tags={"source": "uv run mlflow-tracking-example"}
    )
    run_id = tracking.train_and_track(epochs=8, tags={"example": "basic-tracking"})

    from mlflow import MlflowClient

    client = MlflowClient()
    run = client.get_run(run_id)
    losses = [round(m.value, 3) for m in client.get_metric_history(run_id, "train_loss")]
    print()
    print(f"Run {run_id} ({run.info.status})")
    print(f"  experiment: '{EXAMPLE_EXPERIMENT}' (id {experiment_id})")
    print(f"  params:     {run.data.params}")
    print(f"  train_loss: {losses}")
    print(f"  artifacts:  {[f.path for f in client.list_artifacts(run_id)]}")
    print()
    print("\n".join(how_to_look(uri, experiment_id)))
    print("To look at what the kata's tests logged instead:")
    print("  uv run pytest exercises/module_01 --keep-store, then uv run kata ui")


if __name__ == "__main__":
    tracking_example()
