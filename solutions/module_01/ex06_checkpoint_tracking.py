"""Reference solution for module_01/ex06_checkpoint_tracking: checkpoints as LoggedModels.

Every epoch a LoggedModel; the best checkpoint chosen by MLflow and registered with an alias.

A small "fine-tuning" loop (scikit-learn's SGDClassifier trained epoch by epoch with
``partial_fit`` on the digits data, no GPU) saves a checkpoint after every epoch. Each
checkpoint is a LoggedModel of the training run, at the epoch's step, carrying its own
accuracy and loss on the evaluation split. Then MLflow itself picks the best checkpoint
(``search_logged_models`` with a per-dataset metric order) and the model registry gets
it under an alias.
"""

from __future__ import annotations

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import LoggedModel
from mlflow.entities.model_registry import ModelVersion
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

CHECKPOINT_NAME = "digits-checkpoint"
REGISTERED_MODEL = "digits-classifier"
ALIAS = "champion"
TRAIN_DATASET = "digits_train"
EVAL_DATASET = "digits_eval"
TARGET = "label"
ACCURACY = "accuracy"
LOSS = "loss"
PIP_REQUIREMENTS = ["scikit-learn"]  # given explicitly: inferring them is slow
# skops (the default) costs seconds to import on the first save; cloudpickle does not.
SERIALIZATION_FORMAT = "cloudpickle"
CLASSES = np.arange(10)


def _digits_splits() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first 600 digits as (train, eval) DataFrames: 64 pixel columns and ``label``.

    70 % / 30 %, stratified, ``random_state=0``: 420 training rows, 180 evaluation rows.
    """
    digits = load_digits(as_frame=True)
    frame = digits.data.assign(**{TARGET: digits.target}).iloc[:600]
    train, evaluation = train_test_split(
        frame, test_size=0.3, random_state=0, stratify=frame[TARGET]
    )
    return train, evaluation


def train_with_checkpoints(epochs: int = 4, learning_rate: float = 0.01) -> str:
    """Train ``SGDClassifier(loss="log_loss", learning_rate="constant", eta0=learning_rate,
    random_state=0)`` for ``epochs`` epochs (one ``partial_fit`` over the training split
    each, with ``classes=CLASSES``) inside ONE new MLflow run, and log a checkpoint after
    every epoch.

    The run:
    - params ``epochs`` and ``learning_rate``, logged before the first checkpoint (so
      every checkpoint inherits them);
    - both splits as run inputs: ``mlflow.data.from_pandas(split, name=TRAIN_DATASET or
      EVAL_DATASET, targets=TARGET)``, with the contexts ``"training"`` and
      ``"evaluation"``.

    After epoch ``e`` (``e`` counts from 1):
    - the model as it is now is logged with ``mlflow.sklearn.log_model`` under the name
      ``CHECKPOINT_NAME``, at ``step=e``, with the model param ``epoch`` = ``e``;
    - that checkpoint's metrics, each at ``step=e``, linked to the checkpoint
      (``model_id``) and to the split they were measured on (``dataset``):
      ``ACCURACY`` on the evaluation split, ``LOSS`` (``sklearn.metrics.log_loss`` of
      ``predict_proba``, with ``labels=CLASSES``) on the evaluation split, and
      ``ACCURACY`` on the training split.

    Leave no run active.

    Returns:
        The run's id.
    """
    train, evaluation = _digits_splits()
    x_train, y_train = train.drop(columns=TARGET), train[TARGET]
    x_eval, y_eval = evaluation.drop(columns=TARGET), evaluation[TARGET]
    train_set = mlflow.data.from_pandas(train, name=TRAIN_DATASET, targets=TARGET)
    eval_set = mlflow.data.from_pandas(evaluation, name=EVAL_DATASET, targets=TARGET)

    model = SGDClassifier(
        loss="log_loss", learning_rate="constant", eta0=learning_rate, random_state=0
    )
    with mlflow.start_run() as run:
        mlflow.log_params({"epochs": epochs, "learning_rate": learning_rate})
        mlflow.log_input(train_set, context="training")
        mlflow.log_input(eval_set, context="evaluation")
        for epoch in range(1, epochs + 1):
            model.partial_fit(x_train, y_train, classes=CLASSES)
            checkpoint = mlflow.sklearn.log_model(
                model,
                name=CHECKPOINT_NAME,
                step=epoch,
                params={"epoch": epoch},
                pip_requirements=PIP_REQUIREMENTS,
                serialization_format=SERIALIZATION_FORMAT,
            )
            on_eval = {
                ACCURACY: float(model.score(x_eval, y_eval)),
                LOSS: float(log_loss(y_eval, model.predict_proba(x_eval), labels=CLASSES)),
            }
            on_train = {ACCURACY: float(model.score(x_train, y_train))}
            # model_id ties the values to this checkpoint, dataset to the split they measure.
            for metrics, dataset in ((on_eval, eval_set), (on_train, train_set)):
                mlflow.log_metrics(
                    metrics, step=epoch, model_id=checkpoint.model_id, dataset=dataset
                )
    return run.info.run_id


def best_checkpoint(run_id: str) -> LoggedModel | None:
    """The best checkpoint of the run ``run_id``, chosen by MLflow (one
    ``mlflow.search_logged_models`` call in the active experiment, ``output_format="list"``).

    Only models named ``CHECKPOINT_NAME`` whose source run is ``run_id`` count. Best means
    the highest ``ACCURACY`` measured on ``EVAL_DATASET`` (an accuracy on the training
    split never counts); between checkpoints with the same evaluation accuracy, the one
    with the lower ``LOSS`` on ``EVAL_DATASET`` wins.

    Returns:
        That LoggedModel, or None when the run has no checkpoint measured on
        ``EVAL_DATASET``.
    """
    found = mlflow.search_logged_models(
        filter_string=f"name = '{CHECKPOINT_NAME}' AND source_run_id = '{run_id}'",
        datasets=[{"dataset_name": EVAL_DATASET}],
        order_by=[
            # `datasets=` only filters: each order key names its dataset itself.
            {"field_name": f"metrics.{ACCURACY}", "ascending": False, "dataset_name": EVAL_DATASET},
            {"field_name": f"metrics.{LOSS}", "ascending": True, "dataset_name": EVAL_DATASET},
        ],
        max_results=1,
        output_format="list",
    )
    return found[0] if found else None


def register_best(run_id: str) -> ModelVersion:
    """Register the run's best checkpoint (see ``best_checkpoint``) as a new version of
    ``REGISTERED_MODEL``, from its ``models:/<model_id>`` URI, and point the alias
    ``ALIAS`` at that version (moving it from any older version). No registry stages.

    Returns:
        The new ModelVersion.

    Raises:
        LookupError: when the run has no checkpoint measured on ``EVAL_DATASET``.
    """
    best = best_checkpoint(run_id)
    if best is None:
        raise LookupError(f"run {run_id} has no checkpoint measured on {EVAL_DATASET!r}")
    version = mlflow.register_model(f"models:/{best.model_id}", REGISTERED_MODEL)
    MlflowClient().set_registered_model_alias(REGISTERED_MODEL, ALIAS, version.version)
    return version
