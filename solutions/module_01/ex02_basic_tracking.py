"""Reference solution for module_01/ex02_basic_tracking: one training run, fully tracked."""

from __future__ import annotations

import mlflow
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
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
    features, labels, class_names = _training_data()
    classes = np.unique(labels)
    with mlflow.start_run() as run:
        mlflow.log_params({"epochs": epochs, "alpha": alpha})
        if tags:
            mlflow.set_tags(tags)
        model = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0)
        loss = None
        for epoch in range(epochs):
            model.partial_fit(features, labels, classes=classes)
            loss = log_loss(labels, model.predict_proba(features), labels=classes)
            mlflow.log_metric(LOSS_METRIC, loss, step=epoch)
        mlflow.log_dict(
            {
                "classes": class_names,
                "final_loss": loss,
                "train_accuracy": model.score(features, labels),
            },
            SUMMARY_FILE,
        )
    return run.info.run_id
