"""Checks for ex03_logged_model: log, measure, search and load LoggedModels."""

import json

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

MODEL_NAME = "iris_classifier"
TEST_DATASET = "iris_test"


def _logged_model(client, model_info):
    model_id = getattr(model_info, "model_id", None)
    assert model_id, (
        "expected log_candidate to return the ModelInfo of the logged model (with a model_id); "
        f"got {model_info!r}"
    )
    return client.get_logged_model(model_id)


def _dataset(name: str, rows: int):
    frame = pd.DataFrame({"x": [float(i) for i in range(rows)], "species": ["setosa"] * rows})
    return mlflow.data.from_pandas(frame, name=name, targets="species")


def _describe(models) -> str:
    if not models:
        return "no models"
    return "; ".join(
        f"{m.model_id} ({', '.join(f'{x.key}={x.value} on {x.dataset_name}' for x in m.metrics)})"
        for m in models
    )


@pytest.fixture
def scoreboard():
    """Three candidates in the active experiment, with accuracies on two datasets.

    'overfit' has the best training accuracy but not the best test accuracy.
    """
    mlflow.set_experiment("kata-ex03-search")
    test_set, train_set = _dataset(TEST_DATASET, 45), _dataset("iris_train", 105)
    accuracies = {"overfit": (0.80, 1.00), "good": (0.93, 0.95), "weak": (0.60, 0.62)}
    ids = {}
    with mlflow.start_run():
        for label, (on_test, on_train) in accuracies.items():
            model = mlflow.create_external_model(name=MODEL_NAME)
            mlflow.log_metric("accuracy", on_test, model_id=model.model_id, dataset=test_set)
            mlflow.log_metric("accuracy", on_train, model_id=model.model_id, dataset=train_set)
            ids[label] = model.model_id
    return ids


def test_a_candidate_is_logged_as_a_logged_model_named_iris_classifier(exercise, mlflow_store):
    model_info = exercise.log_candidate(0.5)

    logged = _logged_model(mlflow_store.client(), model_info)
    assert logged.name == MODEL_NAME, (
        f"expected the LoggedModel to be named {MODEL_NAME!r}; it is named {logged.name!r}"
    )
    assert str(logged.status) in ("READY", "LoggedModelStatus.READY"), (
        f"expected the LoggedModel to be READY; it is {logged.status}"
    )
    loaded = mlflow.sklearn.load_model(f"models:/{logged.model_id}")
    assert isinstance(loaded, LogisticRegression), (
        f"expected models:/{logged.model_id} to load a LogisticRegression; got {type(loaded)}"
    )


def test_the_candidate_carries_c_as_a_model_param(exercise, mlflow_store):
    model_info = exercise.log_candidate(0.5)

    params = _logged_model(mlflow_store.client(), model_info).params
    assert "C" in params and float(params["C"]) == 0.5, (
        f"expected the LoggedModel itself to have the param C=0.5; its params are {params}. "
        "A run param reaches the model only if it was logged before the model was; "
        "log_model(params=...) or mlflow.log_model_params(...) set it on the model directly."
    )


def test_evaluation_attaches_the_test_accuracy_to_the_model(exercise, mlflow_store):
    client = mlflow_store.client()
    model_info = exercise.log_candidate(1.0)

    accuracy = exercise.evaluate_candidate(model_info)

    metrics = _logged_model(client, model_info).metrics or []
    on_test = [m for m in metrics if m.key == "accuracy" and m.dataset_name == TEST_DATASET]
    assert on_test, (
        f"expected a metric 'accuracy' on the LoggedModel, tied to the dataset {TEST_DATASET!r}; "
        f"found on the model: {[(m.key, m.value, m.dataset_name) for m in metrics] or 'no metrics'}"
    )
    assert isinstance(accuracy, float) and 0.0 < accuracy <= 1.0, (
        f"expected evaluate_candidate to return the accuracy as a float in (0, 1]; got {accuracy!r}"
    )
    assert on_test[-1].value == pytest.approx(accuracy), (
        f"expected the logged accuracy to be the returned one, {accuracy}; "
        f"found {on_test[-1].value}"
    )
    assert mlflow.active_run() is None, "expected no run to be left active after evaluate_candidate"


def test_evaluation_records_the_test_split_as_the_run_dataset(exercise, mlflow_store):
    client = mlflow_store.client()
    model_info = exercise.log_candidate(1.0)

    exercise.evaluate_candidate(model_info)

    metric = next(
        (m for m in _logged_model(client, model_info).metrics or [] if m.key == "accuracy"), None
    )
    assert metric is not None, "expected a metric 'accuracy' on the LoggedModel"
    inputs = client.get_run(metric.run_id).inputs.dataset_inputs
    found = {d.dataset.name: json.loads(d.dataset.profile or "{}") for d in inputs}
    assert TEST_DATASET in found, (
        f"expected the run that logged the accuracy to use a dataset named {TEST_DATASET!r}; "
        f"its datasets: {sorted(found) or 'none'}"
    )
    rows = found[TEST_DATASET].get("num_rows")
    assert rows == 45, (
        f"expected {TEST_DATASET!r} to be the test split (45 of the 150 iris rows); it has {rows}"
    )


def test_the_best_model_is_chosen_by_its_test_accuracy(exercise, scoreboard):
    best = exercise.find_best_model(0.5)

    found = getattr(best, "model_id", best)
    names = {v: k for k, v in scoreboard.items()}
    assert found == scoreboard["good"], (
        f"expected the model with the best accuracy on {TEST_DATASET!r} (0.93); got "
        f"{names.get(found, found)!r}. Models: "
        + _describe(mlflow.search_logged_models(output_format="list"))
        + f". Only the accuracy on {TEST_DATASET!r} counts."
    )


def test_no_model_is_returned_when_none_reaches_the_threshold(exercise, scoreboard):
    best = exercise.find_best_model(0.95)

    assert best is None, (
        f"no model has a test accuracy of 0.95 or more, so expected None; got "
        f"{getattr(best, 'model_id', best)!r}. A training accuracy does not count."
    )


def test_the_best_model_is_loaded_back_by_its_uri(exercise):
    mlflow.set_experiment("kata-ex03-load")
    iris = load_iris(as_frame=True)
    test_set = _dataset(TEST_DATASET, 45)
    with mlflow.start_run():
        for c, accuracy in [(0.01, 0.71), (10.0, 0.97)]:
            model = LogisticRegression(C=c, max_iter=200).fit(iris.data, iris.target)
            info = mlflow.sklearn.log_model(
                model, name=MODEL_NAME, pip_requirements=["scikit-learn"]
            )
            mlflow.log_metric("accuracy", accuracy, model_id=info.model_id, dataset=test_set)

    loaded = exercise.load_best_model(0.5)

    assert isinstance(loaded, LogisticRegression) and loaded.C == 10.0, (
        f"expected the LogisticRegression with C=10.0 (test accuracy 0.97); got {loaded!r}"
    )
    with pytest.raises(LookupError):
        exercise.load_best_model(0.99)
