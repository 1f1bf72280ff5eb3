"""Exercise 1: one set-up function that every MLflow script can call first.

Build ``setup_mlflow(experiment_name, tracking_uri=None, tags=None)``. It decides
where MLflow records things (the tracking URI), creates the experiment or reuses
it if it exists, tags it, makes it the active experiment and returns its id.

MLflow APIs practised: ``mlflow.set_tracking_uri``, ``mlflow.set_experiment``,
``mlflow.set_experiment_tags`` (or ``MlflowClient().set_experiment_tag``).

Done looks like this:
- the function returns the experiment id, and a run started afterwards lands in
  that experiment;
- calling it twice with the same name gives the same id and no second
  experiment; the tags of the second call are merged into the first ones;
- an explicit ``tracking_uri`` wins over the ``MLFLOW_TRACKING_URI`` environment
  variable, which wins over MLflow's default;
- a blank name such as ``"   "`` raises ``ValueError`` before anything is done.

Run the checks: ``uv run pytest exercises/module_01/test_ex01_mlflow_setup.py``
"""

from __future__ import annotations

import os  # noqa: F401 - you will probably need it

import mlflow  # noqa: F401 - you will need it


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
    # TODO: reject a bad name with ValueError, choose the tracking URI, create or
    # reuse the experiment and make it active, set the tags, return the id.
    raise NotImplementedError("setup_mlflow: write the set-up function (see the TODO)")
