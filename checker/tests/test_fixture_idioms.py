"""``mlflow_3_idioms_only`` fails a test at the MLflow 2.x idiom it uses."""

import mlflow
import pytest
from sklearn.dummy import DummyClassifier

from fixtures.idioms import LegacyMlflowUsage, mlflow_3_idioms_only


def _model():
    return DummyClassifier(strategy="most_frequent").fit([[0], [1]], [0, 0])


def test_name_is_fine():
    with mlflow_3_idioms_only(), mlflow.start_run():
        mlflow.sklearn.log_model(_model(), name="m", pip_requirements=["scikit-learn"])


def test_artifact_path_fails_naming_the_replacement():
    with (
        pytest.raises(LegacyMlflowUsage, match="name=... instead of artifact_path"),
        mlflow_3_idioms_only(),
        mlflow.start_run(),
    ):
        mlflow.sklearn.log_model(_model(), artifact_path="m", pip_requirements=["scikit-learn"])


def test_a_stage_transition_fails():
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            _model(), name="m", registered_model_name="clf", pip_requirements=["scikit-learn"]
        )
    client = mlflow.MlflowClient()
    with pytest.raises(FutureWarning), mlflow_3_idioms_only():
        client.transition_model_version_stage("clf", info.registered_model_version, "Production")
