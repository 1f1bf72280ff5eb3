"""Checks for ex05_migration: the 2.x pipeline, rewritten with MLflow 3 idioms.

Every test here turns MLflow's deprecation warnings into errors, so a 2.x idiom
fails at the line that uses it.
"""

import re

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from fixtures.messages import shown
from fixtures.snapshots import store_snapshot

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


def _champion_is_not_the_latest():
    """Version 1 always says setosa and is the champion; version 2 always says virginica."""
    champion = _register_constant_model("setosa")
    _register_constant_model("virginica")
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", champion)


champion_is_not_the_latest = store_snapshot(
    _champion_is_not_the_latest, name="champion_is_not_the_latest"
)


def _champion(client) -> str | None:
    """The version the alias 'champion' points at, or None when there is no such alias."""
    try:
        return str(client.get_model_version_by_alias(MODEL, "champion").version)
    except mlflow.exceptions.MlflowException:
        return None


def _version_of(result, what) -> str:
    version = getattr(result, "version", None)
    assert version is not None, f"expected {what} to return a ModelVersion; got {shown(result)}"
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
    assert logged.model_uri == version.source, (
        f"expected version {version.version}'s source to be its LoggedModel's URI "
        f"{logged.model_uri}; it is {version.source!r}"
    )
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


def test_the_version_is_a_logistic_regression_with_that_c_fit_on_all_of_iris(
    exercise, mlflow_store
):
    result = exercise.train_and_register(MODEL, c=0.05)

    version = _version_of(result, "train_and_register")
    model = mlflow.sklearn.load_model(f"models:/{MODEL}/{version}")
    found_c = getattr(model, "C", None)
    assert isinstance(model, LogisticRegression) and found_c == 0.05, (
        f"expected version {version} to hold LogisticRegression(C=0.05, max_iter=1000); "
        f"found {shown(model)}"
    )
    iris = load_iris(as_frame=True)
    features = iris.data.rename(columns=lambda c: c.removesuffix(" (cm)").replace(" ", "_"))
    labels = iris.target_names[iris.target]
    expected = LogisticRegression(C=0.05, max_iter=1000).fit(features, labels).coef_
    found = getattr(model, "coef_", None)
    same = (
        found is not None
        and np.shape(found) == expected.shape
        and np.allclose(found, expected, rtol=1e-3, atol=1e-4)
    )
    assert same, (
        "expected the model to be fit on all of iris (the 150 rows of _iris(), labelled by "
        "species name); its coefficients differ from such a fit"
    )


def test_the_returned_version_is_read_back_with_its_champion_alias(exercise):
    result = exercise.train_and_register(MODEL)

    _version_of(result, "train_and_register")
    aliases = getattr(result, "aliases", None)
    assert isinstance(aliases, list | tuple | set) and "champion" in aliases, (
        "expected train_and_register to return the new ModelVersion as the registry has it "
        f"once the alias is set (its aliases include 'champion'); its aliases are {shown(aliases)}"
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
    # Not MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION: it would also leave an untraced
    # predict function untraced, and this test counts one trace per row.
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
    run_id = getattr(result, "run_id", None)
    assert isinstance(run_id, str), (
        "expected the EvaluationResult of mlflow.genai.evaluate (with a run_id); "
        f"got {shown(result)}"
    )
    run = mlflow.get_run(run_id)
    assert run.data.metrics.get("correct_species/mean") == pytest.approx(2 / 3), (
        f"expected the evaluation run to record correct_species/mean; found {run.data.metrics}"
    )
    traces = mlflow.search_traces(run_id=run_id, return_type="list")
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
