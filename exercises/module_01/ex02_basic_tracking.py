"""Exercise 2: track one training run with params, a metric history, tags and an artifact.

Build ``train_and_track(epochs, alpha, tags)``: it trains a small scikit-learn
classifier on the iris data set, one epoch at a time, inside an MLflow run, and
returns the run id. The data loading is done for you (``_training_data``).

MLflow APIs practised: ``mlflow.start_run`` (as a context manager),
``mlflow.log_params``, ``mlflow.log_metric(..., step=...)``, ``mlflow.set_tags``,
``mlflow.log_dict``.

Done looks like this, in the MLflow UI (``uv run kata ui`` after
``uv run pytest exercises/module_01 --keep-store``) or through ``MlflowClient``:
- a FINISHED run with the params ``epochs`` and ``alpha`` and your tags;
- a ``train_loss`` chart with one point per epoch (steps 0, 1, 2, ...);
- ``summary.json`` among the run's artifacts;
- ``train_and_track(alpha=-1.0)`` raises scikit-learn's error and leaves a
  FAILED run behind, not a RUNNING one.

Run the checks: ``uv run pytest exercises/module_01/test_ex02_basic_tracking.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need it
import numpy as np  # noqa: F401 - given: the imports the exercise uses
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier  # noqa: F401
from sklearn.metrics import log_loss  # noqa: F401
from sklearn.preprocessing import StandardScaler

LOSS_METRIC = "train_loss"
SUMMARY_FILE = "summary.json"


def _training_data():
    """The iris features (standardised) and labels, plus the class names."""
    iris = load_iris()
    features = StandardScaler().fit_transform(iris.data)
    return features, iris.target, [str(name) for name in iris.target_names]


def train_and_track(
    epochs: int = 5,
    alpha: float = 0.001,
    tags: dict[str, str] | None = None,
) -> str:
    """Train a small classifier on iris inside one MLflow run, in the active experiment.

    The model is scikit-learn's ``SGDClassifier(loss="log_loss", alpha=alpha,
    random_state=0)``, trained one epoch at a time with ``partial_fit``. The run
    records:

    - the params ``epochs`` and ``alpha``, logged *before* training starts, so a
      run that fails still shows what was tried;
    - the metric ``train_loss`` (the log loss on the training data) after every
      epoch, with ``step`` set to the epoch number: 0, 1, ..., ``epochs - 1``;
    - the given ``tags``;
    - a JSON artifact ``summary.json`` holding at least ``"classes"`` (the class
      names) and ``"final_loss"`` (the last ``train_loss``).

    Pass ``alpha`` to scikit-learn as it is. If anything raises inside the run
    (a negative ``alpha`` does), the run must end with status FAILED and the
    error must reach the caller. No run is left active afterwards.

    Returns:
        The id of the run.
    """
    # TODO: start a run; log the params, then the tags; train epoch by epoch with
    # partial_fit and log train_loss with its step; log summary.json; return the run id.
    raise NotImplementedError("train_and_track: write the tracked training run (see the TODO)")
