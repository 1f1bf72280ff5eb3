"""Exercise 6: tracking a fine-tuning loop, every checkpoint a LoggedModel.

A fine-tuning job saves a checkpoint every epoch, and the last one is rarely the best:
it may already overfit. In MLflow 3 each checkpoint is a LoggedModel of the training
run, logged at the epoch's ``step``, with its own params and its own metrics, each
metric tied to the model (``model_id=``) AND to the data it was measured on
(``dataset=``). MLflow can then choose the best checkpoint by its evaluation metrics,
and the registry gets that one.

The "fine-tuning" here is tiny and runs on any laptop: scikit-learn's
``SGDClassifier`` trained epoch by epoch with ``partial_fit`` on the digits data
(``_digits_splits`` is given). The same calls track a PyTorch or Hugging Face loop.

1. ``train_with_checkpoints``: one run, its params and both splits as inputs; after
   every epoch a checkpoint (``mlflow.sklearn.log_model(..., step=epoch)``) and its
   metrics on the evaluation and the training split.
2. ``best_checkpoint``: one ``mlflow.search_logged_models`` call picks the best
   checkpoint of a run by its evaluation accuracy, ties to the lower evaluation loss.
3. ``register_best``: register that checkpoint and point the ``champion`` alias at it.

MLflow APIs practised: ``mlflow.sklearn.log_model(name=, step=, params=,
pip_requirements=)``, ``mlflow.log_metrics(..., step=, model_id=, dataset=)``,
``mlflow.data.from_pandas``, ``mlflow.log_input(..., context=)``,
``mlflow.search_logged_models(filter_string=, datasets=, order_by=, output_format=)``,
``mlflow.register_model("models:/<model_id>", ...)``, ``set_registered_model_alias``.

Done looks like this: the run's "Logged models" list shows one checkpoint per epoch
with its step, epoch and metrics per dataset, and ``models:/digits-classifier@champion``
loads the checkpoint with the best evaluation accuracy.

Run the checks: ``uv run pytest exercises/module_01/test_ex06_checkpoint_tracking.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
import mlflow.sklearn  # noqa: F401
import numpy as np
import pandas as pd
from mlflow import MlflowClient  # noqa: F401
from mlflow.entities import LoggedModel
from mlflow.entities.model_registry import ModelVersion
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier  # noqa: F401
from sklearn.metrics import log_loss  # noqa: F401
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
    # TODO: build the two splits and their datasets (mlflow.data.from_pandas); the model;
    #       in ONE run: log the params, log_input each dataset with its context, then for
    #       each epoch: partial_fit, log_model(..., step=epoch, params=..., pip_requirements=
    #       PIP_REQUIREMENTS, serialization_format=SERIALIZATION_FORMAT), and log_metrics(
    #       ..., step=epoch, model_id=<the checkpoint's model_id>, dataset=<the split>).
    raise NotImplementedError("train_with_checkpoints: not written yet (see the TODO above)")


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
    # TODO: mlflow.search_logged_models with a filter on name and source_run_id,
    #       datasets=[{"dataset_name": ...}], and order_by dicts ({"field_name":
    #       "metrics.<key>", "ascending": ...}: read the lesson on what each key needs).
    raise NotImplementedError("best_checkpoint: not written yet (see the TODO above)")


def register_best(run_id: str) -> ModelVersion:
    """Register the run's best checkpoint (see ``best_checkpoint``) as a new version of
    ``REGISTERED_MODEL``, from its ``models:/<model_id>`` URI, and point the alias
    ``ALIAS`` at that version (moving it from any older version). No registry stages.

    Returns:
        The new ModelVersion.

    Raises:
        LookupError: when the run has no checkpoint measured on ``EVAL_DATASET``.
    """
    # TODO: best_checkpoint(run_id); LookupError if None; mlflow.register_model from its
    #       models:/ URI; MlflowClient().set_registered_model_alias(...).
    raise NotImplementedError("register_best: not written yet (see the TODO above)")
