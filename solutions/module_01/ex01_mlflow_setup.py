"""Reference solution for module_01/ex01_mlflow_setup: one set-up function for every script."""

from __future__ import annotations

import os

import mlflow


def setup_mlflow(
    experiment_name: str,
    tracking_uri: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Point MLflow at a tracking store and make ``experiment_name`` the active experiment.

    Args:
        experiment_name: the experiment to create, or to reuse if it already exists.
            It must be a non-blank string.
        tracking_uri: where MLflow records everything. When it is None, the
            ``MLFLOW_TRACKING_URI`` environment variable is used; without that,
            MLflow's own default (``sqlite:///mlflow.db`` in the working directory).
        tags: tags to set on the experiment. A later call merges its tags into the
            ones the experiment already has: new keys are added, a key given again
            gets the new value, other keys are kept.

    Returns:
        The id of the experiment (a string such as ``"1"``).

    Raises:
        ValueError: if ``experiment_name`` is not a string, or is empty or only
            whitespace. This is checked first, before MLflow is touched at all.
    """
    if not isinstance(experiment_name, str) or not experiment_name.strip():
        raise ValueError(f"experiment_name must be a non-blank string, got {experiment_name!r}")
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        mlflow.set_tracking_uri(uri)
    experiment = mlflow.set_experiment(experiment_name)
    if tags:
        mlflow.set_experiment_tags(tags)
    return experiment.experiment_id
