"""Checks for ex01_mlflow_setup: a central, idempotent MLflow set-up function."""

import mlflow
import pytest
from mlflow import MlflowClient

from fixtures.messages import shown

EXPERIMENT = "kata-module-01"


def _experiment_names(client: MlflowClient) -> list[str]:
    return sorted(e.name for e in client.search_experiments())


def test_it_returns_the_id_of_an_experiment_with_that_name(exercise, mlflow_store):
    experiment_id = exercise.setup_mlflow(EXPERIMENT)

    client = mlflow_store.client()
    found = client.get_experiment_by_name(EXPERIMENT)
    assert found is not None, (
        f"expected an experiment named {EXPERIMENT!r} in the tracking store "
        f"(MLFLOW_TRACKING_URI); found experiments: {_experiment_names(client)}"
    )
    assert experiment_id == found.experiment_id, (
        f"expected setup_mlflow to return the experiment id {found.experiment_id!r} "
        f"(a string); it returned {shown(experiment_id)}"
    )


def test_the_experiment_becomes_the_active_one(exercise):
    experiment_id = exercise.setup_mlflow(EXPERIMENT)

    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == experiment_id, (
        f"expected a run started after setup_mlflow to land in experiment {EXPERIMENT!r} "
        f"(id {shown(experiment_id)}); it landed in experiment id {run.info.experiment_id!r}. "
        "Make the experiment the active one."
    )


def test_a_second_call_reuses_the_experiment(exercise, mlflow_store):
    first = exercise.setup_mlflow(EXPERIMENT)
    second = exercise.setup_mlflow(EXPERIMENT)

    assert first == second, (
        "expected the second call to return the same experiment id; "
        f"got {shown(first)} then {shown(second)}"
    )
    names = _experiment_names(mlflow_store.client())
    assert names.count(EXPERIMENT) == 1, (
        f"expected exactly one experiment named {EXPERIMENT!r}; found experiments: {names}"
    )


def test_a_second_call_merges_its_tags_into_the_first_ones(exercise, mlflow_store):
    exercise.setup_mlflow(EXPERIMENT, tags={"team": "genai", "env": "dev"})
    exercise.setup_mlflow(EXPERIMENT, tags={"env": "prod", "owner": "kata"})

    tags = mlflow_store.client().get_experiment_by_name(EXPERIMENT).tags
    expected = {"team": "genai", "env": "prod", "owner": "kata"}
    mine = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
    assert mine == expected, (
        "after setup_mlflow(tags={'team': 'genai', 'env': 'dev'}) and then "
        f"setup_mlflow(tags={{'env': 'prod', 'owner': 'kata'}}), expected the experiment's "
        f"tags to be {expected}; found {mine}"
    )


def test_an_explicit_tracking_uri_wins_over_the_environment(exercise, mlflow_store):
    other_uri = mlflow_store.another_store("other-store")

    exercise.setup_mlflow(EXPERIMENT, tracking_uri=other_uri)

    assert mlflow.get_tracking_uri() == other_uri, (
        f"expected MLflow's tracking URI to be the one passed in, {other_uri}; "
        f"it is {mlflow.get_tracking_uri()}"
    )
    in_other = _experiment_names(MlflowClient(tracking_uri=other_uri))
    assert EXPERIMENT in in_other, (
        f"expected the experiment in the store given as tracking_uri; found there: {in_other}"
    )
    in_env = _experiment_names(mlflow_store.client())
    assert EXPERIMENT not in in_env, (
        "the experiment was created in the store of MLFLOW_TRACKING_URI, but an explicit "
        "tracking_uri should win over the environment variable"
    )


def test_the_environment_variable_wins_over_mlflow_default(exercise, mlflow_store, monkeypatch):
    # ./mlflow.db (MLflow's default) is the test's own store; the variable points elsewhere.
    env_uri = mlflow_store.another_store("env-store")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env_uri)

    exercise.setup_mlflow(EXPERIMENT)

    in_env = _experiment_names(MlflowClient(tracking_uri=env_uri))
    in_default = _experiment_names(mlflow_store.client())
    assert EXPERIMENT in in_env and EXPERIMENT not in in_default, (
        "with no tracking_uri argument, expected the experiment in the store named by "
        f"MLFLOW_TRACKING_URI ({env_uri}); found it "
        + ("in MLflow's default store ./mlflow.db" if EXPERIMENT in in_default else "nowhere")
        + f". MLflow points at {mlflow.get_tracking_uri()}"
    )


def test_without_uri_or_environment_variable_mlflow_default_is_used(
    exercise, mlflow_store, monkeypatch
):
    # The test's working directory already holds a store at ./mlflow.db,
    # which is exactly where MLflow's default (sqlite:///mlflow.db) points.
    monkeypatch.delenv("MLFLOW_TRACKING_URI")

    experiment_id = exercise.setup_mlflow(EXPERIMENT)

    found = mlflow_store.client().get_experiment_by_name(EXPERIMENT)
    assert found is not None and found.experiment_id == experiment_id, (
        "with no tracking_uri and no MLFLOW_TRACKING_URI, expected MLflow's default store "
        f"(sqlite:///mlflow.db in the working directory) to be used; MLflow points at "
        f"{mlflow.get_tracking_uri()}"
    )


@pytest.mark.parametrize(
    "bad_name", ["", "   ", "\t\n", 42], ids=["empty", "spaces", "whitespace", "not-a-string"]
)
def test_a_blank_or_non_string_name_is_rejected_before_touching_mlflow(
    exercise, mlflow_store, bad_name
):
    other_uri = mlflow_store.another_store("other-store")
    uri_before = mlflow.get_tracking_uri()

    try:
        exercise.setup_mlflow(bad_name, tracking_uri=other_uri, tags={"team": "genai"})
    except ValueError:
        pass
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - show the learner what was raised instead
        pytest.fail(
            f"expected ValueError for the experiment name {bad_name!r}; "
            f"got {type(err).__name__}: {shown(err)}"
        )
    else:
        pytest.fail(f"expected ValueError for the experiment name {bad_name!r}; nothing was raised")

    assert mlflow.get_tracking_uri() == uri_before, (
        f"the name {bad_name!r} was rejected, but only after the tracking URI had been "
        "changed: check the name first, before touching MLflow"
    )
    for client in (mlflow_store.client(), MlflowClient(tracking_uri=other_uri)):
        names = _experiment_names(client)
        assert names == ["Default"], (
            f"expected no experiment to be created for the name {bad_name!r}; found {names}"
        )
