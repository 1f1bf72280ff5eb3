"""Wrong: the accuracy is logged to a new run only, without model_id, so the
LoggedModel has no metrics and cannot be ranked."""

from __future__ import annotations

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.entities import LoggedModel
from mlflow.models.model import ModelInfo
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
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
    train, _ = _iris_split()
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(train.drop(columns="species"), train.species)
    with mlflow.start_run():
        return mlflow.sklearn.log_model(
            model,
            name=MODEL_NAME,
            params={"C": c},
            pip_requirements=PIP_REQUIREMENTS,
        )


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
    _, test = _iris_split()
    model = mlflow.sklearn.load_model(model_info.model_uri)
    accuracy = float(model.score(test.drop(columns="species"), test.species))
    dataset = mlflow.data.from_pandas(test, name=TEST_DATASET_NAME, targets="species")
    with mlflow.start_run():
        mlflow.log_metric(METRIC, accuracy, dataset=dataset)
    return accuracy


def find_best_model(min_accuracy: float) -> LoggedModel | None:
    """The LoggedModel of the active experiment with the highest test accuracy.

    Only ``accuracy`` measured on the dataset named ``TEST_DATASET_NAME`` counts
    (a model may also carry an accuracy on other data, e.g. its training set).
    Ask MLflow to do the filtering and the ordering.

    Returns:
        The best model whose test accuracy is at least ``min_accuracy``, or None
        when no model reaches it.
    """
    models = mlflow.search_logged_models(
        filter_string=f"metrics.{METRIC} >= {min_accuracy}",
        datasets=[{"dataset_name": TEST_DATASET_NAME}],
        order_by=[
            {
                "field_name": f"metrics.{METRIC}",
                "ascending": False,
                "dataset_name": TEST_DATASET_NAME,
            }
        ],
        max_results=1,
        output_format="list",
    )
    return models[0] if models else None


def load_best_model(min_accuracy: float):
    """Load the best model (see ``find_best_model``) back as a scikit-learn estimator.

    Load it through the model's ``models:/`` URI, not from a file path or a run.

    Raises:
        LookupError: when no model reaches ``min_accuracy``.
    """
    best = find_best_model(min_accuracy)
    if best is None:
        raise LookupError(f"no LoggedModel reaches a test accuracy of {min_accuracy}")
    return mlflow.sklearn.load_model(best.model_uri)
