"""Checks for ex02_basic_tracking: params, a metric history, tags and an artifact in one run."""

import math

import mlflow
import numpy as np
import pytest
from mlflow.entities import RunStatus
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from fixtures.messages import shown
from fixtures.runs import all_runs


def _number(text):
    """A param's value as a number, or None when it is missing or not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _run(client, run_id):
    assert isinstance(run_id, str), (
        f"expected train_and_track to return the run id (a string); got {shown(run_id)}"
    )
    return client.get_run(run_id)


def test_it_returns_the_id_of_a_finished_run(exercise, mlflow_store):
    run_id = exercise.train_and_track(epochs=3)

    run = _run(mlflow_store.client(), run_id)
    assert run.info.status == "FINISHED", (
        f"expected the run to end with status FINISHED; it is {run.info.status}"
    )
    assert mlflow.active_run() is None, (
        f"expected no active run after train_and_track; run {mlflow.active_run().info.run_id} "
        "is still active. Use `with mlflow.start_run():` so it ends."
    )


def _expected_losses(epochs: int, alpha: float) -> list[float]:
    """The log loss on the training data after each epoch, as the docstring defines it."""
    iris = load_iris()
    features = StandardScaler().fit_transform(iris.data)
    labels, classes = iris.target, np.unique(iris.target)
    model = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0)
    losses = []
    for _ in range(epochs):
        model.partial_fit(features, labels, classes=classes)
        losses.append(log_loss(labels, model.predict_proba(features), labels=classes))
    return losses


def test_the_run_lands_in_the_active_experiment(exercise, mlflow_store):
    active = mlflow.set_experiment("kata-ex02-active")

    run_id = exercise.train_and_track(epochs=2)

    run = _run(mlflow_store.client(), run_id)
    assert run.info.experiment_id == active.experiment_id, (
        f"expected the run in the active experiment 'kata-ex02-active' (id "
        f"{active.experiment_id}); it is in experiment id {run.info.experiment_id}. "
        "Start the run without choosing an experiment of your own."
    )


def test_epochs_and_alpha_are_logged_as_params(exercise, mlflow_store):
    run_id = exercise.train_and_track(epochs=3, alpha=0.01)

    params = _run(mlflow_store.client(), run_id).data.params
    assert params.get("epochs") == "3" and _number(params.get("alpha")) == 0.01, (
        f"expected the params epochs=3 and alpha=0.01 on the run; found params {params}"
    )


def test_the_loss_is_logged_once_per_epoch_with_its_step(exercise, mlflow_store):
    run_id = exercise.train_and_track(epochs=4)

    history = mlflow_store.client().get_metric_history(run_id, "train_loss")
    steps = sorted(m.step for m in history)
    logged = sorted(_run(mlflow_store.client(), run_id).data.metrics)
    assert steps == [0, 1, 2, 3], (
        "expected one 'train_loss' value per epoch with step=0, 1, 2, 3 for epochs=4; "
        f"found steps {steps} (metrics on the run: {logged})"
    )
    values = [m.value for m in sorted(history, key=lambda m: m.step)]
    assert all(math.isfinite(v) and v > 0 for v in values), (
        f"expected positive log-loss values; found {values}"
    )
    assert values[-1] < values[0], (
        f"expected the training loss to go down over the epochs; found {values}. "
        "Keep training the same model with partial_fit rather than starting again each epoch."
    )


def test_the_loss_is_the_log_loss_on_the_training_data(exercise, mlflow_store):
    run_id = exercise.train_and_track(epochs=3, alpha=0.01)

    history = mlflow_store.client().get_metric_history(run_id, "train_loss")
    found = [m.value for m in sorted(history, key=lambda m: (m.step, m.timestamp))]
    expected = _expected_losses(3, 0.01)
    assert found == pytest.approx(expected, rel=1e-6), (
        "expected train_loss to be scikit-learn's log_loss of predict_proba on the training "
        "data after each epoch of SGDClassifier(loss='log_loss', alpha=0.01, random_state=0), "
        f"i.e. {[round(v, 4) for v in expected]}; found {shown(found)}"
    )


def test_the_given_tags_are_set_on_the_run(exercise, mlflow_store):
    tags = {"team": "genai", "purpose": "kata"}

    run_id = exercise.train_and_track(epochs=2, tags=tags)

    found = _run(mlflow_store.client(), run_id).data.tags
    mine = {k: v for k, v in found.items() if not k.startswith("mlflow.")}
    missing = {k: v for k, v in tags.items() if found.get(k) != v}
    assert not missing, f"expected the tags {tags} on the run; found {mine}"


def test_a_json_summary_is_logged_as_an_artifact(exercise, mlflow_store):
    run_id = exercise.train_and_track(epochs=3)

    client = mlflow_store.client()
    run = _run(client, run_id)
    names = [f.path for f in client.list_artifacts(run_id)]
    assert "summary.json" in names, f"expected an artifact 'summary.json' on the run; found {names}"
    try:
        summary = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/summary.json")
    except Exception as err:  # noqa: BLE001 - explain in the learner's terms
        pytest.fail(
            f"expected summary.json to be a JSON object (mlflow.log_dict writes one); reading it "
            f"failed: {type(err).__name__}: {shown(str(err))}",
            pytrace=False,
        )
    assert isinstance(summary, dict), (
        f"expected summary.json to hold a JSON object (a dict); found {shown(summary)}"
    )
    assert summary.get("classes") == ["setosa", "versicolor", "virginica"], (
        f"expected summary.json to hold the class names under 'classes'; found {shown(summary)}"
    )
    history = client.get_metric_history(run_id, "train_loss")
    assert history, "expected a 'train_loss' metric on the run to compare final_loss with"
    last_loss = sorted(history, key=lambda m: (m.step, m.timestamp))[-1]
    assert summary.get("final_loss") == pytest.approx(last_loss.value), (
        f"expected summary.json's 'final_loss' to be the last train_loss, {last_loss.value}; "
        f"found {shown(summary.get('final_loss'))}"
    )


def test_a_failure_inside_the_run_marks_it_failed_and_propagates(exercise, mlflow_store):
    try:
        exercise.train_and_track(epochs=2, alpha=-1.0)
    except NotImplementedError:
        raise
    except ValueError:
        pass  # scikit-learn's InvalidParameterError is a ValueError
    except Exception as err:  # noqa: BLE001 - show the learner what was raised instead
        pytest.fail(
            "expected scikit-learn's ValueError to reach the caller; "
            f"got {type(err).__name__}: {shown(err)}"
        )
    else:
        pytest.fail(
            "expected train_and_track(alpha=-1.0) to raise scikit-learn's error; "
            "it returned normally"
        )

    assert mlflow.active_run() is None, (
        "the error left the run active: end it (a `with mlflow.start_run():` block does)"
    )
    runs = all_runs()
    assert len(runs) == 1, (
        f"expected exactly one run for the failed training; found {len(runs)}. "
        "Log the params inside the run before training starts."
    )
    run = runs[0]
    assert run.info.status == RunStatus.to_string(RunStatus.FAILED), (
        f"expected the run of the failed training to end FAILED; it is {run.info.status}"
    )
    params = run.data.params
    assert _number(params.get("alpha")) == -1.0, (
        f"expected the failed run to show what was tried (param alpha=-1.0); found {params}"
    )
