"""Checks for ex03_logged_model: log, measure, search and load LoggedModels."""

import itertools
import json
import time

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from fixtures.messages import shown
from fixtures.snapshots import store_snapshot

MODEL_NAME = "iris_classifier"
TEST_DATASET = "iris_test"
# On the test split, the candidate with C=0.1 scores differently from its accuracy on
# the training split (0.933) and from a model fit on all of iris (1.0).
HELD_OUT_C = 0.1


def _iris_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exercise's (train, test) split of iris, built here again from its docstring."""
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=iris.target_names[iris.target])
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame.species)
    return train, test


def _fit(c: float, frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=1000).fit(frame.drop(columns="species"), frame.species)


def _logged_model(client, model_info):
    model_id = getattr(model_info, "model_id", None)
    assert isinstance(model_id, str) and model_id, (
        "expected log_candidate to return the ModelInfo of the logged model (with a model_id); "
        f"got {shown(model_info)}"
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


def _test_accuracy_metrics(model) -> list:
    metrics = model.metrics or []
    return [m for m in metrics if m.key == "accuracy" and m.dataset_name == TEST_DATASET]


# --- arranged once: models that did not go through the learner's code --------------------


def _held_out_candidate():
    """A candidate like log_candidate's (C=0.1, fit on the training split), logged in a run."""
    train, _ = _iris_split()
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            _fit(HELD_OUT_C, train), name=MODEL_NAME, pip_requirements=["scikit-learn"]
        )
    return {"model_uri": info.model_uri, "source_run_id": info.run_id}


held_out_candidate = store_snapshot(_held_out_candidate, name="held_out_candidate")


def _scoreboard_models():
    """Three candidates in 'kata-ex03-search', with accuracies on two datasets ('overfit'
    has the best training accuracy, 'good' the best test accuracy), and a better one,
    'elsewhere', in another experiment."""
    test_set, train_set = _dataset(TEST_DATASET, 45), _dataset("iris_train", 105)
    ids = {}
    mlflow.set_experiment("kata-ex03-other")
    with mlflow.start_run():
        model = mlflow.create_external_model(name=MODEL_NAME)
        mlflow.log_metric("accuracy", 0.99, model_id=model.model_id, dataset=test_set)
        ids["elsewhere"] = model.model_id
    mlflow.set_experiment("kata-ex03-search")
    accuracies = {"overfit": (0.80, 1.00), "good": (0.93, 0.95), "weak": (0.60, 0.62)}
    clock = itertools.count(int(time.time() * 1000))  # the training accuracy is the latest
    with mlflow.start_run():
        for label, (on_test, on_train) in accuracies.items():
            model = mlflow.create_external_model(name=MODEL_NAME)
            for value, dataset in [(on_test, test_set), (on_train, train_set)]:
                mlflow.log_metric(
                    "accuracy",
                    value,
                    timestamp=next(clock),
                    model_id=model.model_id,
                    dataset=dataset,
                )
            ids[label] = model.model_id
    return ids


scoreboard_models = store_snapshot(_scoreboard_models, name="scoreboard_models")


@pytest.fixture
def scoreboard(scoreboard_models):
    """The scoreboard, with 'kata-ex03-search' as the active experiment."""
    mlflow.set_experiment("kata-ex03-search")
    return scoreboard_models


def _two_real_models():
    """Two logged LogisticRegressions in 'kata-ex03-load': C=0.01 (test accuracy 0.71)
    and C=10.0 (0.97)."""
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


two_real_models = store_snapshot(_two_real_models, name="two_real_models")


# --- log_candidate ------------------------------------------------------------------------


def test_a_candidate_is_logged_inside_a_run_as_a_logged_model_named_iris_classifier(
    exercise, mlflow_store
):
    model_info = exercise.log_candidate(0.5)

    logged = _logged_model(mlflow_store.client(), model_info)
    assert logged.name == MODEL_NAME, (
        f"expected the LoggedModel to be named {MODEL_NAME!r}; it is named {logged.name!r}"
    )
    assert str(logged.status) in ("READY", "LoggedModelStatus.READY"), (
        f"expected the LoggedModel to be READY; it is {logged.status}"
    )
    assert logged.source_run_id, (
        "expected the model to be logged inside a run (the LoggedModel's source_run_id); "
        "it has no source run"
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


def test_the_candidate_is_fit_with_that_c_on_the_training_split_only(exercise, mlflow_store):
    model_info = exercise.log_candidate(HELD_OUT_C)

    logged = _logged_model(mlflow_store.client(), model_info)
    loaded = mlflow.sklearn.load_model(f"models:/{logged.model_id}")
    found_c = getattr(loaded, "C", None)
    assert found_c == HELD_OUT_C, (
        f"expected the logged estimator to be LogisticRegression(C={HELD_OUT_C}, max_iter=1000); "
        f"it has C={shown(found_c)}"
    )
    train, _ = _iris_split()
    expected = _fit(HELD_OUT_C, train).coef_
    found = getattr(loaded, "coef_", None)
    same = (
        found is not None
        and np.shape(found) == expected.shape
        and np.allclose(found, expected, rtol=1e-3, atol=1e-4)
    )
    assert same, (
        "expected the candidate to be fit on the training split only (70% of iris, "
        "_iris_split()[0]), so that the test split stays unseen; its coefficients differ "
        "from such a fit"
    )


# --- evaluate_candidate -----------------------------------------------------------------


def _evaluate_held_out(exercise, held_out_candidate):
    info = mlflow.models.get_model_info(held_out_candidate["model_uri"])
    return info, exercise.evaluate_candidate(info)


def test_evaluation_attaches_the_test_accuracy_to_the_model(
    exercise, mlflow_store, held_out_candidate
):
    model_info, accuracy = _evaluate_held_out(exercise, held_out_candidate)

    _, test = _iris_split()
    model = mlflow.sklearn.load_model(model_info.model_uri)
    expected = float(model.score(test.drop(columns="species"), test.species))
    assert isinstance(accuracy, float) and accuracy == pytest.approx(expected), (
        f"expected evaluate_candidate to return the accuracy on the test split, {expected:.4f} "
        f"(a float); got {shown(accuracy)}. The training split does not count."
    )
    logged = _logged_model(mlflow_store.client(), model_info)
    metrics = logged.metrics or []
    on_test = _test_accuracy_metrics(logged)
    assert on_test, (
        f"expected a metric 'accuracy' on the LoggedModel, tied to the dataset {TEST_DATASET!r}; "
        f"found on the model: {[(m.key, m.value, m.dataset_name) for m in metrics] or 'no metrics'}"
    )
    assert on_test[-1].value == pytest.approx(expected), (
        f"expected the logged accuracy to be the test accuracy, {expected:.4f}; "
        f"found {on_test[-1].value}"
    )
    assert mlflow.active_run() is None, "expected no run to be left active after evaluate_candidate"


def test_evaluation_records_the_test_split_as_the_run_dataset(
    exercise, mlflow_store, held_out_candidate
):
    model_info, _ = _evaluate_held_out(exercise, held_out_candidate)

    client = mlflow_store.client()
    metric = next(iter(_test_accuracy_metrics(_logged_model(client, model_info))), None)
    assert metric is not None, (
        f"expected a metric 'accuracy' on the LoggedModel, tied to the dataset {TEST_DATASET!r}"
    )
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


def test_evaluation_is_logged_in_a_run_of_its_own(exercise, mlflow_store, held_out_candidate):
    model_info, _ = _evaluate_held_out(exercise, held_out_candidate)

    client = mlflow_store.client()
    metric = next(iter(_test_accuracy_metrics(_logged_model(client, model_info))), None)
    assert metric is not None, (
        f"expected a metric 'accuracy' on the LoggedModel, tied to the dataset {TEST_DATASET!r}"
    )
    assert metric.run_id and metric.run_id != held_out_candidate["source_run_id"], (
        "expected the accuracy to be logged in a new run of its own; it was logged in "
        + ("the run that trained and logged the model" if metric.run_id else "no run at all")
    )


# --- find_best_model and load_best_model ---------------------------------------------------


def _label(scoreboard, best) -> str:
    found = getattr(best, "model_id", best)
    names = {v: k for k, v in scoreboard.items()}
    label = names.get(found, shown(found))
    if label == "elsewhere":
        label += " (a model of another experiment: only the active experiment counts)"
    return label


def test_the_best_model_is_chosen_by_its_test_accuracy(exercise, scoreboard):
    best = exercise.find_best_model(0.5)

    assert getattr(best, "model_id", best) == scoreboard["good"], (
        f"expected the model of the active experiment with the best accuracy on "
        f"{TEST_DATASET!r} ('good', 0.93); got {_label(scoreboard, best)}. Models: "
        + _describe(mlflow.search_logged_models(output_format="list"))
        + f". Only the accuracy on {TEST_DATASET!r} counts."
    )


def test_a_model_exactly_at_the_threshold_counts(exercise, scoreboard):
    best = exercise.find_best_model(0.93)

    assert getattr(best, "model_id", best) == scoreboard["good"], (
        "'good' has a test accuracy of exactly 0.93, so find_best_model(0.93) should return "
        f"it (at least min_accuracy); got {_label(scoreboard, best)}"
    )


def test_no_model_is_returned_when_none_reaches_the_threshold(exercise, scoreboard):
    best = exercise.find_best_model(0.95)

    assert best is None, (
        f"no model of the active experiment has a test accuracy of 0.95 or more, so expected "
        f"None; got {_label(scoreboard, best)}. A training accuracy does not count."
    )


def test_the_best_model_is_loaded_back_by_its_uri(exercise, two_real_models):
    mlflow.set_experiment("kata-ex03-load")

    loaded = exercise.load_best_model(0.5)

    assert isinstance(loaded, LogisticRegression) and loaded.C == 10.0, (
        f"expected the LogisticRegression with C=10.0 (test accuracy 0.97); got {shown(loaded)}"
    )


def test_loading_raises_lookup_error_when_no_model_reaches_the_threshold(exercise, two_real_models):
    mlflow.set_experiment("kata-ex03-load")

    try:
        loaded = exercise.load_best_model(0.99)
    except LookupError:
        return
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - show the learner what was raised instead
        pytest.fail(f"expected LookupError when no model reaches 0.99; got {shown(err)}")
    pytest.fail(f"expected LookupError when no model reaches 0.99; it returned {shown(loaded)}")
