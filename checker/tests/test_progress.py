"""The learner's state: progress.json, the result cache, hints, backups, kept stores."""

import datetime as dt
import json
import os

import pytest

from checker.manifest import load_manifest
from checker.progress import (
    DONE,
    FAILING,
    VERSION,
    CheckResult,
    Progress,
    backup_file,
    exercise_hash,
    kept_stores,
)
from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata, write_stub

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests


@pytest.fixture
def kata(tmp_path):
    return make_kata(
        tmp_path, FakeExercise("module_01/ex01_add"), FakeExercise("module_01/ex02_sub")
    )


def record_pass(kata, exercise):
    progress = Progress.load(kata)
    result = CheckResult(exercise.id, DONE, 2, 2, hash=exercise_hash(kata, exercise))
    progress.record(result)
    progress.save()


def test_without_a_progress_file_nothing_is_done(kata):
    progress = Progress.load(kata)
    assert progress.status("module_01/ex01_add") == "not_started"
    assert progress.next_exercise(load_manifest(kata)).id == "module_01/ex01_add"


def test_a_result_survives_saving_and_loading(kata):
    progress = Progress.load(kata)
    progress.record(CheckResult("module_01/ex01_add", FAILING, 1, 2, message="assert 3 == -3"))
    progress.save()
    result = Progress.load(kata).result("module_01/ex01_add")
    assert (result.status, result.passed, result.total) == (FAILING, 1, 2)
    assert result.message == "assert 3 == -3"


def test_the_progress_file_records_its_version(kata):
    Progress.load(kata).save()
    assert json.loads((kata.state / "progress.json").read_text())["version"] == VERSION


def test_a_corrupt_progress_file_is_moved_aside_and_rebuilt(kata):
    kata.state.mkdir()
    (kata.state / "progress.json").write_text("{ not json")
    progress = Progress.load(kata)
    assert progress.data == {"version": VERSION, "exercises": {}}
    assert "could not be used" in (progress.note or "")
    assert len(list(kata.state.glob("progress.json.unreadable-*"))) == 1


def test_a_progress_file_of_another_version_is_rebuilt(kata):
    kata.state.mkdir()
    old = {"version": VERSION + 1, "exercises": {"module_01/ex01_add": {"check": {}}}}
    (kata.state / "progress.json").write_text(json.dumps(old))
    assert Progress.load(kata).data["exercises"] == {}


def test_an_unchanged_exercise_reuses_its_last_result(kata):
    exercise = load_manifest(kata).exercises[0]
    record_pass(kata, exercise)
    cached = Progress.load(kata).cached(kata, exercise)
    assert cached.status == DONE and cached.cached


def test_an_edited_exercise_file_invalidates_its_last_result(kata):
    exercise = load_manifest(kata).exercises[0]
    record_pass(kata, exercise)
    write_stub(kata, exercise.id, "def add(a, b):\n    return 0\n")
    progress = Progress.load(kata)
    assert progress.cached(kata, exercise) is None
    assert progress.edited_since_check(exercise)


def test_an_edited_test_file_invalidates_the_last_result(kata):
    exercise = load_manifest(kata).exercises[0]
    record_pass(kata, exercise)
    kata.test_file(exercise).write_text("def test_new():\n    pass\n")
    assert Progress.load(kata).cached(kata, exercise) is None


def test_the_next_exercise_is_the_first_not_done(kata):
    record_pass(kata, load_manifest(kata).exercises[0])
    assert Progress.load(kata).next_exercise(load_manifest(kata)).id == "module_01/ex02_sub"


def test_the_number_of_hints_shown_is_remembered(kata):
    progress = Progress.load(kata)
    progress.set_hints_shown("module_01/ex01_add", 2)
    progress.save()
    assert Progress.load(kata).hints_shown("module_01/ex01_add") == 2


def test_a_backup_is_named_after_the_exercise_and_the_time(kata):
    exercise = load_manifest(kata).exercises[0]
    backup = backup_file(kata, exercise, dt.datetime(2025, 3, 4, 5, 6, 7))
    assert backup == kata.state / "backup/module_01/ex01_add-20250304-050607.py"
    assert backup.read_text() == kata.stub(exercise).read_text()


def test_two_backups_in_the_same_second_do_not_overwrite_each_other(kata):
    exercise = load_manifest(kata).exercises[0]
    when = dt.datetime(2025, 3, 4, 5, 6, 7)
    assert backup_file(kata, exercise, when) != backup_file(kata, exercise, when)


def test_kept_stores_are_listed_newest_first(kata):
    for age, name in enumerate(["newest", "middle", "oldest"]):
        db = kata.state / "stores" / name / "mlflow.db"
        db.parent.mkdir(parents=True)
        db.write_text("")
        os.utime(db, (1_000_000 - age * 100, 1_000_000 - age * 100))
    assert [db.parent.name for db in kept_stores(kata)] == ["newest", "middle", "oldest"]


def test_a_timeout_or_crash_is_never_reused(kata):
    exercise = load_manifest(kata).exercises[0]
    progress = Progress.load(kata)
    digest = exercise_hash(kata, exercise)
    progress.record(CheckResult(exercise.id, FAILING, problem="timeout", hash=digest))
    assert progress.cached(kata, exercise) is None


def test_saving_keeps_what_another_kata_process_wrote_meanwhile(kata):
    watching = Progress.load(kata)  # e.g. `kata watch`, loaded long ago
    hinting = Progress.load(kata)  # e.g. `kata hint` in another terminal
    hinting.set_hints_shown("module_01/ex02_sub", 1)
    hinting.save()
    watching.record(CheckResult("module_01/ex01_add", DONE, 2, 2))
    watching.save()
    progress = Progress.load(kata)
    assert progress.hints_shown("module_01/ex02_sub") == 1
    assert progress.status("module_01/ex01_add") == DONE
