"""Wrong: tags are given only when the experiment is created, so a second call
reuses the experiment but never updates or adds its tags."""

from __future__ import annotations

import os

import mlflow
from mlflow import MlflowClient


def setup_mlflow(
    experiment_name: str,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    if not isinstance(experiment_name, str) or not experiment_name.strip():
        raise ValueError(f"bad experiment name {experiment_name!r}")
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    existing = client.get_experiment_by_name(experiment_name)
    if existing is None:
        experiment_id = client.create_experiment(experiment_name, tags=tags)
    else:
        experiment_id = existing.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
