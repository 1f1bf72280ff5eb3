"""Checks for ex06_checkpoint_tracking: checkpoints as LoggedModels, the best one chosen
by MLflow, registered with an alias.

The training tests run the learner's loop for 4 epochs (about a second of CPU each). The
search and registration tests start from a canned scoreboard of checkpoints whose
metrics are set by hand (a store snapshot built once), so every rule of the choice
(evaluation split only, the loss breaks ties, only this run) has a case of its own.
"""

from __future__ import annotations

import itertools
import time

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModel
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from fixtures.messages import shown
from fixtures.registry import aliases_of, model_versions, stages_of
from fixtures.snapshots import store_snapshot

CHECKPOINT = "digits-checkpoint"
REGISTERED = "digits-classifier"
TRAIN, EVAL = "digits_train", "digits_eval"
EPOCHS = 4


# --- helpers -------------------------------------------------------------------------


def _split(which: str) -> tuple[pd.DataFrame, pd.Series]:
    """The stub's ``_digits_splits``, rebuilt here: ``which`` is "train" or "eval"."""
    digits = load_digits(as_frame=True)
    frame = digits.data.assign(label=digits.target).iloc[:600]
    train, evaluation = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame.label)
    chosen = train if which == "train" else evaluation
    return chosen.drop(columns="label"), chosen.label


def _loaded(model):
    return mlflow.sklearn.load_model(f"models:/{model.model_id}")


def _checkpoints(run_id: str) -> list:
    """The run's LoggedModel outputs as (step, LoggedModel), by step."""
    client = MlflowClient()
    run = client.get_run(run_id)
    outputs = run.outputs.model_outputs if run.outputs else []
    return sorted(
        ((o.step, client.get_logged_model(o.model_id)) for o in outputs), key=lambda p: p[0]
    )


def _metric(model, key: str, dataset: str):
    """The model's metric ``key`` measured on ``dataset`` (the last one logged), or None."""
    found = [m for m in model.metrics or [] if m.key == key and m.dataset_name == dataset]
    return found[-1] if found else None


def _metrics_of(model) -> str:
    return (
        ", ".join(
            f"{m.key}={m.value:.4f} on {m.dataset_name} at step {m.step}"
            for m in model.metrics or []
        )
        or "no metrics"
    )


@pytest.fixture
def trained(exercise) -> str:
    """The run id of the learner's training, 4 epochs."""
    mlflow.set_experiment("kata-checkpoints")
    run_id = exercise.train_with_checkpoints(epochs=EPOCHS)
    assert isinstance(run_id, str) and MlflowClient().get_run(run_id), (
        f"expected train_with_checkpoints to return the id of its run; got {shown(run_id)}"
    )
    return run_id


@store_snapshot
def scoreboard() -> dict:
    """Checkpoints with hand-set metrics, in experiment 'kata-scoreboard'.

    Run 'main': e1..e5 measured on the evaluation and the training split (the training
    accuracy logged last, as a training loop does), e6 measured on the training split
    only. e2 and e4 tie on evaluation accuracy; e2 (older) has the lower loss. e3 has the
    best training accuracy, e5 the lowest loss; 'baseline', a model of another name,
    beats them all. Run 'other': one better checkpoint. Run 'unmeasured': a checkpoint
    with a training accuracy only.
    """
    mlflow.set_experiment("kata-scoreboard")
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0], "label": [0, 1, 0]})
    eval_set = mlflow.data.from_pandas(frame, name=EVAL, targets="label")
    train_set = mlflow.data.from_pandas(frame.assign(x=frame.x + 1), name=TRAIN, targets="label")
    table = {  # label: (eval accuracy, eval loss, train accuracy)
        "e1": (0.90, 0.40, 0.91),
        "e2": (0.94, 0.25, 0.95),
        "e3": (0.88, 0.50, 0.99),
        "e4": (0.94, 0.30, 0.96),
        "e5": (0.93, 0.20, 0.97),
        "e6": (None, None, 1.00),
    }
    ids: dict = {}
    # explicit, increasing timestamps: the training accuracy is the latest even when
    # two metrics would otherwise be logged in the same millisecond
    clock = itertools.count(int(time.time() * 1000))
    with mlflow.start_run(run_name="main") as run:
        ids["main"] = run.info.run_id
        for step, (label, (accuracy, loss, train_accuracy)) in enumerate(table.items(), 1):
            model = mlflow.create_external_model(name=CHECKPOINT, params={"epoch": str(step)})
            on_eval = {"step": step, "model_id": model.model_id, "dataset": eval_set}
            if accuracy is not None:
                mlflow.log_metric("accuracy", accuracy, timestamp=next(clock), **on_eval)
                mlflow.log_metric("loss", loss, timestamp=next(clock), **on_eval)
            mlflow.log_metric(
                "accuracy",
                train_accuracy,
                step=step,
                timestamp=next(clock),
                model_id=model.model_id,
                dataset=train_set,
            )
            ids[label] = model.model_id
        baseline = mlflow.create_external_model(name="digits-baseline")
        mlflow.log_metric("accuracy", 0.98, step=7, model_id=baseline.model_id, dataset=eval_set)
        mlflow.log_metric("loss", 0.10, step=7, model_id=baseline.model_id, dataset=eval_set)
        ids["baseline"] = baseline.model_id
    with mlflow.start_run(run_name="other") as run:
        ids["other"] = run.info.run_id
        model = mlflow.create_external_model(name=CHECKPOINT)
        mlflow.log_metric("accuracy", 0.99, step=1, model_id=model.model_id, dataset=eval_set)
        mlflow.log_metric("loss", 0.05, step=1, model_id=model.model_id, dataset=eval_set)
        ids["other_best"] = model.model_id
    with mlflow.start_run(run_name="unmeasured") as run:
        ids["unmeasured"] = run.info.run_id
        model = mlflow.create_external_model(name=CHECKPOINT)
        mlflow.log_metric("accuracy", 0.97, step=1, model_id=model.model_id, dataset=train_set)
    return ids


def _label(ids: dict, model_id) -> str:
    names = {v: k for k, v in ids.items()}
    return names.get(model_id, shown(model_id))


# --- training ------------------------------------------------------------------------


def test_every_epoch_leaves_a_checkpoint_output_of_the_run_at_its_step(trained):
    checkpoints = _checkpoints(trained)

    steps = [step for step, _ in checkpoints]
    assert steps == list(range(1, EPOCHS + 1)), (
        f"expected one LoggedModel output of the run per epoch, at steps 1..{EPOCHS} "
        f"(log_model(..., step=epoch)); found steps {steps}"
    )
    wrong = [
        (m.name, str(m.status), m.source_run_id == trained)
        for _, m in checkpoints
        if m.name != CHECKPOINT or "READY" not in str(m.status) or m.source_run_id != trained
    ]
    assert not wrong, (
        f"expected every checkpoint to be a READY LoggedModel named {CHECKPOINT!r} whose "
        f"source run is the training run; found (name, status, from this run): {wrong}"
    )


def test_each_checkpoint_loads_back_and_scores_its_own_logged_eval_accuracy(trained):
    x_eval, y_eval = _split("eval")

    for step, model in _checkpoints(trained):
        metric = _metric(model, "accuracy", EVAL)
        assert metric is not None, (
            f"expected the checkpoint of epoch {step} to carry 'accuracy' measured on {EVAL!r} "
            f"(log_metric(..., model_id=..., dataset=...)); it has: {_metrics_of(model)}"
        )
        assert metric.step == step, (
            f"expected the eval accuracy of the epoch-{step} checkpoint at step {step}; "
            f"found step {metric.step}"
        )
        real = _loaded(model).score(x_eval, y_eval)
        assert metric.value == pytest.approx(real), (
            f"the checkpoint of epoch {step}, loaded back, scores {real:.4f} on the evaluation "
            f"split, but the accuracy logged for it is {metric.value:.4f}: log the metrics of the "
            "model you saved at that epoch"
        )


def test_each_checkpoint_carries_its_own_log_loss_on_the_eval_split(trained):
    x_eval, y_eval = _split("eval")

    for step, model in _checkpoints(trained):
        metric = _metric(model, "loss", EVAL)
        assert metric is not None and metric.step == step, (
            f"expected the checkpoint of epoch {step} to carry 'loss' measured on {EVAL!r} at "
            f"step {step}; it has: {_metrics_of(model)}"
        )
        real = log_loss(y_eval, _loaded(model).predict_proba(x_eval), labels=list(range(10)))
        assert metric.value == pytest.approx(real), (
            f"the checkpoint of epoch {step}, loaded back, has a log loss of {real:.4f} on the "
            f"evaluation split, but the loss logged for it is {metric.value:.4f}"
        )


def test_the_training_accuracy_is_kept_apart_on_the_training_split(trained):
    x_train, y_train = _split("train")

    for step, model in _checkpoints(trained):
        metric = _metric(model, "accuracy", TRAIN)
        assert metric is not None and metric.step == step, (
            f"expected the checkpoint of epoch {step} to also carry 'accuracy' measured on "
            f"{TRAIN!r} (the same metric name, another dataset) at step {step}; it has: "
            f"{_metrics_of(model)}"
        )
        real = _loaded(model).score(x_train, y_train)
        assert metric.value == pytest.approx(real), (
            f"the checkpoint of epoch {step}, loaded back, scores {real:.4f} on the training "
            f"split, but the accuracy logged for it on {TRAIN!r} is {metric.value:.4f}"
        )


def test_the_run_records_both_splits_as_inputs_with_their_contexts(trained):
    inputs = MlflowClient().get_run(trained).inputs.dataset_inputs
    found = {
        d.dataset.name: {t.key: t.value for t in d.tags}.get("mlflow.data.context") for d in inputs
    }
    assert found == {TRAIN: "training", EVAL: "evaluation"}, (
        f"expected the run's dataset inputs {TRAIN!r} (context 'training') and {EVAL!r} "
        f"(context 'evaluation'); found {found}"
    )


def test_each_checkpoint_carries_its_epoch_and_the_runs_hyperparameters(trained):
    found = {step: model.params for step, model in _checkpoints(trained)}
    wrong = {
        step: params
        for step, params in found.items()
        if params.get("epoch") != str(step)
        or params.get("epochs") != str(EPOCHS)
        or "learning_rate" not in params
    }
    assert not wrong, (
        "expected each checkpoint's params to hold its own 'epoch' and the run's 'epochs' "
        f"and 'learning_rate' (log the run params before the first checkpoint); found {wrong}"
    )


def test_a_real_training_registers_its_best_checkpoint_as_champion(exercise, trained):
    x_eval, y_eval = _split("eval")
    checkpoints = _checkpoints(trained)
    scores = {}  # the rule: best eval accuracy, then the lower eval loss, as measured here
    for step, model in checkpoints:
        loaded = _loaded(model)
        loss = log_loss(y_eval, loaded.predict_proba(x_eval), labels=list(range(10)))
        scores[step] = (round(loaded.score(x_eval, y_eval), 9), -loss)
    best_step = max(scores, key=scores.get)
    expected = f"models:/{dict(checkpoints)[best_step].model_id}"
    by_step = {step: f"accuracy {acc:.4f} loss {-neg:.4f}" for step, (acc, neg) in scores.items()}

    version = exercise.register_best(trained)

    versions = model_versions(REGISTERED)
    sources = [v.source for v in versions]
    assert sources == [expected], (
        f"expected one version of {REGISTERED!r}, registered from the checkpoint of epoch "
        f"{best_step} ({expected}: best eval accuracy, ties to the lower eval loss; "
        f"{shown(by_step)}); found sources {shown(sources)}"
    )
    assert aliases_of(REGISTERED) == {"champion": str(versions[0].version)}, (
        f"expected the alias 'champion' on version {versions[0].version}; found "
        f"{aliases_of(REGISTERED)}"
    )
    assert str(getattr(version, "version", None)) == str(versions[0].version), (
        f"expected register_best to return the new ModelVersion; got {shown(version)}"
    )


# --- choosing the best ---------------------------------------------------------------


def test_the_best_checkpoint_is_chosen_by_its_eval_accuracy_not_its_training_accuracy(
    exercise, scoreboard
):
    mlflow.set_experiment("kata-scoreboard")

    best = exercise.best_checkpoint(scoreboard["main"])

    assert isinstance(best, LoggedModel), (
        f"expected a LoggedModel (search_logged_models(..., output_format='list')); got "
        f"{shown(best)}"
    )
    found = best.model_id
    assert found in (scoreboard["e2"], scoreboard["e4"]), (
        f"expected a checkpoint with the best accuracy on {EVAL!r} (e2 or e4, 0.94); got "
        f"{_label(scoreboard, found)}. e3 has the best accuracy on {TRAIN!r} and e6 was never "
        f"measured on {EVAL!r}: neither counts. (`datasets=` only filters the models; an "
        "order_by key needs its own 'dataset_name'.)"
    )


def test_a_tie_on_eval_accuracy_goes_to_the_lower_eval_loss(exercise, scoreboard):
    mlflow.set_experiment("kata-scoreboard")

    best = exercise.best_checkpoint(scoreboard["main"])

    found = getattr(best, "model_id", best)
    assert found == scoreboard["e2"], (
        f"e2 and e4 tie on eval accuracy (0.94); expected e2, whose eval loss is lower "
        f"(0.25 < 0.30); got {_label(scoreboard, found)}. Without a second order key MLflow "
        "puts the newest model first."
    )


def test_only_checkpoints_of_the_given_run_count(exercise, scoreboard):
    mlflow.set_experiment("kata-scoreboard")

    best = exercise.best_checkpoint(scoreboard["main"])

    found = getattr(best, "model_id", best)
    assert found != scoreboard["other_best"], (
        "expected a checkpoint of the run asked about; got the checkpoint of another run "
        "(eval accuracy 0.99). Filter on the model's source run."
    )


def test_only_models_named_as_checkpoints_count(exercise, scoreboard):
    mlflow.set_experiment("kata-scoreboard")

    best = exercise.best_checkpoint(scoreboard["main"])

    found = getattr(best, "model_id", best)
    assert found != scoreboard["baseline"], (
        f"expected a model named {CHECKPOINT!r}; got the run's 'digits-baseline' model (eval "
        "accuracy 0.98). Filter on the model's name too."
    )


def test_no_checkpoint_is_returned_for_a_run_never_evaluated(exercise, scoreboard):
    mlflow.set_experiment("kata-scoreboard")

    best = exercise.best_checkpoint(scoreboard["unmeasured"])

    assert best is None, (
        f"the run 'unmeasured' has one checkpoint measured on {TRAIN!r} only, so expected "
        f"None; got {_label(scoreboard, getattr(best, 'model_id', best))}"
    )


def test_registering_a_run_never_evaluated_raises_lookup_error(exercise, scoreboard):
    mlflow.set_experiment("kata-scoreboard")

    try:
        version = exercise.register_best(scoreboard["unmeasured"])
    except LookupError:
        return
    pytest.fail(
        "expected register_best to raise LookupError for the run 'unmeasured' (no checkpoint "
        f"measured on {EVAL!r}); it returned {shown(version)} and the registry holds "
        f"{shown([v.source for v in model_versions(REGISTERED)])}"
    )


# --- registering ---------------------------------------------------------------------


@pytest.mark.usefixtures("mlflow_3_idioms_only")
def test_registering_twice_moves_the_champion_alias_to_the_new_version(exercise, scoreboard):
    mlflow.set_experiment("kata-scoreboard")

    exercise.register_best(scoreboard["main"])
    exercise.register_best(scoreboard["other"])

    versions = model_versions(REGISTERED)
    sources = [v.source for v in versions]
    expected = [f"models:/{scoreboard['e2']}", f"models:/{scoreboard['other_best']}"]
    assert sources == expected, (
        f"expected two versions of {REGISTERED!r}, from e2 then from the other run's best "
        f"checkpoint; found sources {[_label(scoreboard, s.split('/')[-1]) for s in sources]}"
    )
    assert aliases_of(REGISTERED) == {"champion": str(versions[-1].version)}, (
        f"expected 'champion' to move to the newest version {versions[-1].version}; found "
        f"{aliases_of(REGISTERED)}"
    )
    assert not stages_of(REGISTERED), (
        f"expected no registry stages (MLflow 2.x); found {stages_of(REGISTERED)}"
    )
