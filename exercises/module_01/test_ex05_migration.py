"""Checks for ex05_migration: the 2.x pipeline, rewritten with MLflow 3 idioms.

Every test here turns MLflow's deprecation warnings into errors, so a 2.x idiom
fails at the line that uses it.
"""

import re

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

MODEL = "iris-classifier"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
VIRGINICA = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.6, "petal_width": 2.2}


pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")


def _register_constant_model(prediction: str) -> str:
    """Register a version of MODEL that always predicts ``prediction``; return its version."""
    model = DummyClassifier(strategy="constant", constant=prediction)
    model.fit(pd.DataFrame([SETOSA, VIRGINICA]), ["setosa", "virginica"])
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="constant", registered_model_name=MODEL, pip_requirements=["scikit-learn"]
        )
    return str(info.registered_model_version)


@pytest.fixture
def champion_is_not_the_latest(mlflow_store):
    """Version 1 always says setosa and is the champion; version 2 always says virginica."""
    champion = _register_constant_model("setosa")
    _register_constant_model("virginica")
    mlflow_store.client().set_registered_model_alias(MODEL, "champion", champion)


def _champion(client) -> str | None:
    """The version the alias 'champion' points at, or None when there is no such alias."""
    try:
        return str(client.get_model_version_by_alias(MODEL, "champion").version)
    except mlflow.exceptions.MlflowException:
        return None


def _version_of(result, what) -> str:
    version = getattr(result, "version", None)
    assert version is not None, f"expected {what} to return a ModelVersion; got {result!r}"
    return str(version)


def test_training_registers_a_version_made_from_a_logged_model(exercise, mlflow_store):
    result = exercise.train_and_register(MODEL)

    client = mlflow_store.client()
    version = client.get_model_version(MODEL, _version_of(result, "train_and_register"))
    match = re.fullmatch(r"models:/(m-[0-9a-f]+)", version.source or "")
    assert match, (
        f"expected version {version.version} of {MODEL!r} to come from a LoggedModel "
        f"(source models:/m-...); its source is {version.source!r}"
    )
    logged = client.get_logged_model(match.group(1))
    assert logged is not None and logged.model_uri == version.source
    assert version.current_stage == "None", (
        f"expected no registry stage (stages are MLflow 2); version {version.version} is in "
        f"stage {version.current_stage!r}"
    )


def test_the_newest_version_carries_the_champion_alias(exercise, mlflow_store):
    client = mlflow_store.client()

    first = _version_of(exercise.train_and_register(MODEL, c=0.1), "train_and_register")
    after_first = _champion(client)
    second = _version_of(exercise.train_and_register(MODEL, c=10.0), "train_and_register")
    after_second = _champion(client)

    assert (after_first, after_second) == (first, second), (
        f"expected the alias 'champion' to point at version {first} after the first training "
        f"and at version {second} after the second; it pointed at {after_first}, then "
        f"{after_second}"
    )
    versions = client.search_model_versions(f"name = '{MODEL}'")
    aliases = {str(v.version): list(v.aliases) for v in versions}
    assert "champion" not in aliases.get(first, []), (
        f"expected version {first} to lose the alias; aliases by version: {aliases}"
    )


def test_the_champion_is_loaded_through_its_alias(exercise, champion_is_not_the_latest):
    model = exercise.load_champion(MODEL)

    predicted = list(model.predict(pd.DataFrame([VIRGINICA])))
    assert predicted == ["setosa"], (
        "expected the version with the alias 'champion' (version 1, which always says "
        f"'setosa'); the loaded model says {predicted}. Version 2 is the latest, not the "
        "champion: load models:/<name>@champion."
    )


def test_evaluation_scores_the_champion_with_the_scorer(exercise, champion_is_not_the_latest):
    rows = [
        {"inputs": SETOSA, "expectations": {"species": "setosa"}},
        {"inputs": dict(SETOSA, sepal_length=4.9), "expectations": {"species": "setosa"}},
        {"inputs": VIRGINICA, "expectations": {"species": "virginica"}},
    ]

    result = exercise.evaluate_champion(MODEL, rows)

    metrics = dict(getattr(result, "metrics", None) or {})
    assert metrics.get("correct_species/mean") == pytest.approx(2 / 3), (
        "expected the metric correct_species/mean = 0.667 (the champion always says setosa: "
        f"right on 2 of 3 rows); found metrics {metrics}"
    )
    run = mlflow.get_run(result.run_id)
    assert run.data.metrics.get("correct_species/mean") == pytest.approx(2 / 3), (
        f"expected the evaluation run to record correct_species/mean; found {run.data.metrics}"
    )
    traces = mlflow.search_traces(run_id=result.run_id, return_type="list")
    verdicts = sorted(
        str(a.feedback.value)
        for t in traces
        for a in t.info.assessments
        if a.name == "correct_species" and a.feedback is not None
    )
    assert verdicts == ["False", "True", "True"], (
        "expected one correct_species assessment per row (True, True, False); "
        f"found {verdicts} on {len(traces)} traces"
    )
