"""Wrong: the MLFLOW_TRACKING_URI environment variable is preferred to the
tracking_uri argument, so an explicit URI is ignored whenever the variable is set."""

from __future__ import annotations

import os

import mlflow


def setup_mlflow(
    experiment_name: str,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    if not isinstance(experiment_name, str) or not experiment_name.strip():
        raise ValueError(f"bad experiment name {experiment_name!r}")
    uri = os.environ.get("MLFLOW_TRACKING_URI") or tracking_uri
    if uri:
        mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(experiment_name)
    if tags:
        mlflow.set_experiment_tags(tags)
    return experiment.experiment_id
