"""Exercise 5: port an MLflow 2.x pipeline to MLflow 3.

Here is a function as many MLflow 2.x projects wrote it. It still runs on
MLflow 3.17, but every marked line is a 2.x idiom that is deprecated or works
only through a fallback:

    def train_register_and_evaluate(model_name, eval_df):
        features, species = _iris()
        client = MlflowClient()
        with mlflow.start_run() as run:
            model = LogisticRegression(max_iter=1000).fit(features, species)
            mlflow.sklearn.log_model(model, artifact_path="model")         # (1)
            model_uri = f"runs:/{run.info.run_id}/model"                    # (2)
            version = mlflow.register_model(model_uri, model_name)
            client.transition_model_version_stage(                          # (3)
                model_name, version.version, stage="Production"
            )
            production = mlflow.pyfunc.load_model(
                f"models:/{model_name}/Production"                          # (3)
            )
            result = mlflow.evaluate(                                       # (4)
                model_uri, eval_df, targets="species", model_type="classifier"
            )
        return result.metrics

(1) ``artifact_path=`` is deprecated: models get a ``name=`` and become
    LoggedModels with their own id.
(2) ``runs:/<run_id>/model`` no longer holds the model's files; MLflow 3 finds
    the model through a fallback. Use the model's own URI,
    ``model_info.model_uri`` (``models:/<model_id>``).
(3) Registry stages (Staging, Production, Archived) are deprecated. A version
    gets an alias such as ``champion`` and is loaded as
    ``models:/<name>@champion``.
(4) ``mlflow.evaluate`` is deprecated. GenAI-style evaluation is
    ``mlflow.genai.evaluate(data=..., predict_fn=..., scorers=[...])``, with
    scorers you can write yourself with ``@scorer``.

Rewrite it as four MLflow 3 pieces: ``train_and_register``, ``load_champion``,
the scorer ``correct_species`` and ``evaluate_champion``.

Done looks like this: the tests turn every MLflow deprecation warning into an
error, and they pass; the registry shows each version with the ``champion``
alias on the newest and no stage; the evaluation run shows the metric
``correct_species/mean`` and one assessed trace per row.

Run the checks: ``uv run pytest exercises/module_01/test_ex05_migration.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
import mlflow.sklearn  # noqa: F401
import pandas as pd
from mlflow import MlflowClient  # noqa: F401
from mlflow.entities.model_registry import ModelVersion
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import scorer  # noqa: F401
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression  # noqa: F401

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
    # TODO: train, then inside a run log the model with name= and registered_model_name=
    #       (or register model_info.model_uri), set the alias, and return the version.
    raise NotImplementedError("train_and_register: not written yet (see the TODO above)")


def load_champion(model_name: str):
    """Load the version of ``model_name`` that the alias ``MODEL_ALIAS`` points at.

    Whichever version is the newest, the alias decides. The result has a
    ``predict(DataFrame)`` method (a scikit-learn or a pyfunc model, your choice).
    """
    # TODO: load the model through a models:/ URI that names the alias.
    raise NotImplementedError("load_champion: not written yet (see the TODO above)")


def correct_species(outputs: str, expectations: dict) -> bool:
    """A custom scorer (``@scorer``): did the app predict the expected species?

    ``outputs`` is what the predict function returned for one row;
    ``expectations`` is that row's ``"expectations"`` dict, e.g.
    ``{"species": "setosa"}``.
    """
    # TODO: decorate this function with @scorer (from mlflow.genai.scorers) and compare
    #       the output with the expected species.
    raise NotImplementedError("correct_species: not written yet (see the TODO above)")


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
    # TODO: load the champion, write a predict function that takes the features as
    #       keyword arguments, and call mlflow.genai.evaluate with your scorer.
    raise NotImplementedError("evaluate_champion: not written yet (see the TODO above)")
