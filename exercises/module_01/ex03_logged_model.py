"""Exercise 3: the LoggedModel, MLflow 3's first-class model entity.

In MLflow 2 a model was a folder of artifacts inside a run. In MLflow 3 a
logged model is an entity of its own, the LoggedModel, with an id
(``m-...``), a name, params, metrics tied to datasets, and a URI
``models:/<model_id>``. Runs still exist: they produce models and evaluate them.

Build four functions around a tiny model-selection loop on iris:

1. ``log_candidate(c)``: train a LogisticRegression and log it as a LoggedModel
   named ``iris_classifier`` with ``C`` as a model param.
2. ``evaluate_candidate(model_info)``: load it back by its URI, measure its test
   accuracy and attach that metric to the model and to the test dataset.
3. ``find_best_model(min_accuracy)``: ask MLflow for the best model by test
   accuracy.
4. ``load_best_model(min_accuracy)``: load that best model back.

MLflow APIs practised: ``mlflow.sklearn.log_model(name=..., params=...,
pip_requirements=...)`` and the ``ModelInfo`` it returns,
``mlflow.log_model_params``, ``mlflow.log_metric(..., model_id=..., dataset=...)``,
``mlflow.data.from_pandas``, ``mlflow.search_logged_models``,
``mlflow.sklearn.load_model("models:/...")``.

Done looks like this: in the UI's "Models" tab of the experiment, every
candidate shows its ``C`` and its ``accuracy (iris_test)``, and
``load_best_model`` gives back the candidate with the best test accuracy.

Run the checks: ``uv run pytest exercises/module_01/test_ex03_logged_model.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
import mlflow.sklearn  # noqa: F401
import pandas as pd
from mlflow.entities import LoggedModel
from mlflow.models.model import ModelInfo
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression  # noqa: F401
from sklearn.model_selection import train_test_split

MODEL_NAME = "iris_classifier"
TEST_DATASET_NAME = "iris_test"
METRIC = "accuracy"
PIP_REQUIREMENTS = ["scikit-learn"]  # given explicitly: inferring them is slow


def _iris_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The iris data as a (train, test) pair of DataFrames with a ``species`` column."""
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=iris.target_names[iris.target])
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame.species)
    return train, test


def log_candidate(c: float) -> ModelInfo:
    """Train one candidate and log it as a LoggedModel.

    Train ``LogisticRegression(C=c, max_iter=1000)`` on the training split, then,
    inside a run, log it with the scikit-learn flavor under the name
    ``MODEL_NAME`` (remember ``pip_requirements=PIP_REQUIREMENTS``). Record ``C``
    as a param *of the model* (not only of the run).

    Returns:
        The ``ModelInfo`` that logging the model gave back (it knows the model's
        ``model_id`` and ``model_uri``).
    """
    # TODO: fit the model on the training split, then inside a run log it with
    #       mlflow.sklearn.log_model (name=, pip_requirements=) and give the model its param C.
    raise NotImplementedError("log_candidate: not written yet (see the TODO above)")


def evaluate_candidate(model_info: ModelInfo) -> float:
    """Measure a logged candidate on the test split and attach the result to the model.

    Load the model back through ``model_info.model_uri``, compute its accuracy on
    the test split, and log it as the metric ``accuracy`` of that model
    (``model_id``), tied to the test split as an MLflow dataset named
    ``TEST_DATASET_NAME``. Log it inside a run of its own, and leave no run
    active.

    Returns:
        The accuracy, between 0 and 1.
    """
    # TODO: load the model by model_info.model_uri, score it on the test split, wrap the
    #       test split in an MLflow dataset and log the metric on the model, inside a run.
    raise NotImplementedError("evaluate_candidate: not written yet (see the TODO above)")


def find_best_model(min_accuracy: float) -> LoggedModel | None:
    """The LoggedModel of the active experiment with the highest test accuracy.

    Only ``accuracy`` measured on the dataset named ``TEST_DATASET_NAME`` counts
    (a model may also carry an accuracy on other data, e.g. its training set).
    Ask MLflow to do the filtering and the ordering.

    Returns:
        The best model whose test accuracy is at least ``min_accuracy``, or None
        when no model reaches it.
    """
    # TODO: one mlflow.search_logged_models call: a metrics filter, the test dataset,
    #       an order_by on the test accuracy; return the first model or None.
    raise NotImplementedError("find_best_model: not written yet (see the TODO above)")


def load_best_model(min_accuracy: float):
    """Load the best model (see ``find_best_model``) back as a scikit-learn estimator.

    Load it through the model's ``models:/`` URI, not from a file path or a run.

    Raises:
        LookupError: when no model reaches ``min_accuracy``.
    """
    # TODO: find the best model, raise LookupError if there is none, load it by its URI.
    raise NotImplementedError("load_best_model: not written yet (see the TODO above)")
