"""Wrong: leaves the name check to MLflow, which accepts a name made of spaces
(and raises an MlflowException, not a ValueError, for an empty one)."""

from __future__ import annotations

import os

import mlflow


def setup_mlflow(
    experiment_name: str,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(experiment_name)
    if tags:
        mlflow.set_experiment_tags(tags)
    return experiment.experiment_id
