"""Reference solution for module_01/ex05_migration: a 2.x pipeline in MLflow 3 idioms."""

from __future__ import annotations

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import scorer
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

MODEL_ALIAS = "champion"
PIP_REQUIREMENTS = ["scikit-learn"]  # given explicitly: inferring them is slow


def _iris() -> tuple[pd.DataFrame, pd.Series]:
    """Iris features (sepal_length, sepal_width, petal_length, petal_width) and species names."""
    iris = load_iris(as_frame=True)
    features = iris.data.rename(columns=lambda c: c.removesuffix(" (cm)").replace(" ", "_"))
    species = pd.Series(iris.target_names[iris.target], name="species")
    return features, species


def train_and_register(model_name: str, c: float = 1.0) -> ModelVersion:
    """Train, log and register a new version of ``model_name``, and make it the champion.

    Train ``LogisticRegression(C=c, max_iter=1000)`` on all of iris (features
    from ``_iris``, labels are species names). Log it with the scikit-learn
    flavor (``pip_requirements=PIP_REQUIREMENTS``) and register it as a new
    version of ``model_name``: the version's source is the LoggedModel
    (``models:/<model_id>``). Then point the alias ``MODEL_ALIAS`` at the new
    version. Registry stages belong to MLflow 2: none is used.

    Returns:
        The new ``ModelVersion``, read back from the registry once the alias is
        set (its ``aliases`` include ``MODEL_ALIAS``).
    """
    features, species = _iris()
    model = LogisticRegression(C=c, max_iter=1000).fit(features, species)
    with mlflow.start_run():
        model_info = mlflow.sklearn.log_model(
            model,
            name="iris_model",
            registered_model_name=model_name,
            pip_requirements=PIP_REQUIREMENTS,
        )
    client = MlflowClient()
    version = str(model_info.registered_model_version)
    client.set_registered_model_alias(model_name, MODEL_ALIAS, version)
    return client.get_model_version(model_name, version)


def load_champion(model_name: str):
    """Load the version of ``model_name`` that the alias ``MODEL_ALIAS`` points at.

    Whichever version is the newest, the alias decides. The result has a
    ``predict(DataFrame)`` method (a scikit-learn or a pyfunc model, your choice).
    """
    return mlflow.sklearn.load_model(f"models:/{model_name}@{MODEL_ALIAS}")


@scorer
def correct_species(outputs: str, expectations: dict) -> bool:
    """A custom scorer (``@scorer``): did the app predict the expected species?

    ``outputs`` is what the predict function returned for one row;
    ``expectations`` is that row's ``"expectations"`` dict, e.g.
    ``{"species": "setosa"}``.
    """
    return outputs == expectations["species"]


def evaluate_champion(model_name: str, eval_data: list[dict]) -> EvaluationResult:
    """Evaluate the champion of ``model_name`` with ``mlflow.genai.evaluate``.

    ``eval_data`` rows look like ``{"inputs": {"sepal_length": 5.1, ...},
    "expectations": {"species": "setosa"}}``. The predict function receives a
    row's inputs as keyword arguments and returns the predicted species name.
    Score every row with ``correct_species``: MLflow records a run, one trace
    per row with its assessment, and the metric ``correct_species/mean``.

    Returns:
        The evaluation result that ``mlflow.genai.evaluate`` returned.
    """
    champion = load_champion(model_name)

    def predict_species(**features: float) -> str:
        return str(champion.predict(pd.DataFrame([features]))[0])

    return mlflow.genai.evaluate(
        data=eval_data, predict_fn=predict_species, scorers=[correct_species]
    )
