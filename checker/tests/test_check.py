"""`kata check`: a pytest subprocess, its report, and what the learner is told.

The first tests feed report records straight to ``interpret``; the others run
real subprocesses in a throw-away kata tree of plain-Python exercises.
"""

import pytest

from checker.check import CheckOptions, check_exercises, check_one, interpret, timeout_for
from checker.manifest import Exercise, load_manifest
from checker.progress import CRASH, DONE, EXIT, FAILING, NOT_STARTED, TIMEOUT, Progress
from checker.report import Report
from checker.tests import fake_kata
from checker.tests.fake_kata import (
    HALF_RIGHT,
    HANG,
    OS_EXIT,
    SOLUTION,
    STUB,
    SYNTAX_ERROR,
    SYS_EXIT,
    FakeExercise,
    make_kata,
)

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests

EXERCISE = Exercise("module_01/ex01_add", "Add")
T1 = "exercises/module_01/test_ex01_add.py::test_one"
T2 = "exercises/module_01/test_ex01_add.py::test_two"


def ran(nodeid, outcome="passed", when="call", **extra):
    """The records of one test whose ``when`` phase had ``outcome``."""
    records = [{"event": "start", "nodeid": nodeid}]
    for phase in ("setup", "call", "teardown"):
        record = {"event": "result", "nodeid": nodeid, "when": phase, "outcome": "passed"}
        if phase == when:
            record.update(outcome=outcome, **extra)
        records.append(record)
    return records


def interpret_records(records, returncode, timed_out=False, timeout=None):
    """What a check concludes from these report lines."""
    report = Report()
    for record in records:
        report.add(record)
    return interpret(EXERCISE, report, returncode, timed_out, timeout)


FINISH_OK = [{"event": "finish", "exitstatus": 0}]
FINISH_FAILED = [{"event": "finish", "exitstatus": 1}]
NOT_IMPLEMENTED = {"not_implemented": True, "exception": "NotImplementedError", "message": "TODO"}


# --- reading a report ------------------------------------------------------------


def test_every_test_passed_with_a_finish_record_is_done():
    result = interpret_records(ran(T1) + ran(T2) + FINISH_OK, 0)
    assert (result.status, result.passed, result.total) == (DONE, 2, 2)


def test_a_report_without_finish_is_a_crash_naming_the_running_test():
    records = ran(T1) + [{"event": "start", "nodeid": T2}]
    result = interpret_records(records, returncode=0)
    assert (result.status, result.problem) == (FAILING, CRASH)
    assert result.message.startswith(
        "the test process stopped unexpectedly (exit code 0) while running test_two; "
        "did your code call os._exit() or crash?"
    )


def test_a_timeout_names_the_test_that_was_running():
    records = ran(T1) + [{"event": "start", "nodeid": T2}]
    result = interpret_records(records, returncode=-9, timed_out=True, timeout=5)
    assert (result.status, result.problem) == (FAILING, TIMEOUT)
    assert result.message.startswith("timed out after 5 s while running test_two")


def test_a_run_that_collected_no_tests_is_not_a_pass():
    result = interpret_records([{"event": "finish", "exitstatus": 5}], 5)
    assert result.status == FAILING
    assert result.message == "no tests were collected from test_ex01_add.py"


def test_a_test_file_that_cannot_be_collected_is_not_a_pass():
    records = [{"event": "collect_error", "nodeid": "x", "message": "ImportError: nope"}]
    result = interpret_records(records + FINISH_FAILED, 1)
    assert result.status == FAILING
    assert "ImportError: nope" in result.message


def test_every_test_failing_with_not_implemented_means_not_started():
    records = ran(T1, "failed", **NOT_IMPLEMENTED) + ran(T2, "failed", **NOT_IMPLEMENTED)
    result = interpret_records(records + FINISH_FAILED, 1)
    assert (result.status, result.passed, result.total) == (NOT_STARTED, 0, 2)


def test_not_implemented_beside_a_passing_test_is_failing():
    records = ran(T1) + ran(T2, "failed", **NOT_IMPLEMENTED)
    result = interpret_records(records + FINISH_FAILED, 1)
    assert (result.status, result.passed, result.total) == (FAILING, 1, 2)


def test_the_first_failure_gives_its_test_message_and_line_in_the_learner_file():
    failure = {"message": "AssertionError: expected 3", "where": "ex01_add.py:4 in add"}
    records = ran(T1) + ran(T2, "failed", **failure)
    result = interpret_records(records + FINISH_FAILED, 1)
    assert (result.test, result.message, result.where) == (
        "test_two",
        "AssertionError: expected 3",
        "ex01_add.py:4 in add",
    )


def test_a_failing_setup_counts_as_a_failed_test():
    records = ran(T1, "failed", when="setup", message="fixture broke")
    result = interpret_records(records + FINISH_FAILED, 1)
    assert (result.status, result.passed, result.message) == (FAILING, 0, "fixture broke")


def test_sys_exit_in_the_learner_code_is_named_plainly():
    records = ran(T1, "failed", exception="SystemExit", message="SystemExit: 0")
    result = interpret_records(records + FINISH_FAILED, 1)
    assert (result.status, result.problem) == (FAILING, EXIT)
    assert "your code called sys.exit()" in result.message


def test_a_skipped_test_is_not_a_pass():
    records = ran(T1) + ran(T2, "skipped", when="setup", message="no spark")
    result = interpret_records(records + FINISH_OK, 0)
    assert result.status == FAILING
    assert "skipped: no spark" in result.message


def test_pytest_where_explanations_are_left_out_of_the_message():
    message = "AssertionError: assert 3 == -3\n +  where 3 = <function add at 0x1>(-1, -2)"
    result = interpret_records(ran(T1, "failed", message=message) + FINISH_FAILED, 1)
    assert result.message == "AssertionError: assert 3 == -3"


# --- real runs in a fake kata ------------------------------------------------------

LEARNER_FILES = {
    "correct": SOLUTION,
    "untouched": fake_kata.STUB,
    "half_right": HALF_RIGHT,
    "syntax_error": SYNTAX_ERROR,
    "os_exit": OS_EXIT,
    "sys_exit": SYS_EXIT,
    "hang": HANG,
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """One real check of each kind of learner file, two at a time (the hang times out
    after 6 s: long enough, on a busy machine too, to be running its test for more than
    half of it, so it is reported as stuck rather than slow): result by kind."""
    exercises = [  # only the hang waits for its timeout; the others finish at once
        FakeExercise(
            f"module_01/ex{n:02d}_{kind}", stub=source, timeout=6 if kind == "hang" else 60
        )
        for n, (kind, source) in enumerate(LEARNER_FILES.items(), 1)
    ]
    kata = make_kata(tmp_path_factory.mktemp("kata"), *exercises)
    manifest = load_manifest(kata)
    with pytest.MonkeyPatch.context() as patch:
        fake_kata.fast_checks(patch)
        options = CheckOptions(jobs=2)
        results = check_exercises(kata, manifest.exercises, Progress.load(kata), options)
    return {r.exercise.split("_", 2)[-1]: r for r in results}


def test_a_correct_solution_passes(checked):
    result = checked["correct"]
    assert (result.status, result.passed, result.total) == (DONE, 2, 2)


def test_an_untouched_stub_is_not_started(checked):
    assert checked["untouched"].status == NOT_STARTED


def test_a_half_right_solution_reports_its_first_failing_test(checked):
    result = checked["half_right"]
    assert (result.status, result.passed, result.total) == (FAILING, 1, 2)
    assert result.test == "test_adds_negative_numbers"
    assert result.message == "AssertionError: assert 3 == -3"


def test_a_syntax_error_is_reported_and_not_passed(checked):
    result = checked["syntax_error"]
    assert (result.status, result.passed) == (FAILING, 0)
    assert result.message.startswith("ex04_syntax_error.py does not parse: expected ':' (line 1)")


def test_os_exit_is_reported_as_an_unexpected_stop_and_not_passed(checked):
    result = checked["os_exit"]
    assert (result.status, result.problem) == (FAILING, CRASH)
    assert "stopped unexpectedly (exit code 0) while running test_adds_two_numbers" in (
        result.message
    )


def test_sys_exit_is_reported_and_not_passed(checked):
    result = checked["sys_exit"]
    assert (result.status, result.problem) == (FAILING, EXIT)
    assert result.where == "ex06_sys_exit.py:5 in add"


def test_a_hang_is_killed_after_the_timeout_and_not_passed(checked):
    result = checked["hang"]
    assert (result.status, result.problem) == (FAILING, TIMEOUT)
    assert result.message.startswith("timed out after 6 s while running test_adds_two_numbers")
    assert result.duration < 15


def test_the_timeout_option_overrides_the_manifest_which_overrides_the_default():
    in_manifest = Exercise("module_01/ex01_add", "Add", timeout=600)
    assert timeout_for(in_manifest, CheckOptions(timeout=5)) == 5
    assert timeout_for(in_manifest, CheckOptions()) == 600
    assert timeout_for(EXERCISE, CheckOptions()) == 120


def test_a_missing_exercise_file_is_reported_without_running(tmp_path):
    kata = make_kata(tmp_path)
    exercise = load_manifest(kata).exercises[0]
    kata.stub(exercise).unlink()
    result = check_one(kata, exercise, CheckOptions())
    assert result.status == FAILING
    assert result.message == "the exercise file exercises/module_01/ex01_add.py does not exist"


# --- checking and recording several -------------------------------------------------


@pytest.fixture
def two(tmp_path):
    return make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_add", stub=SOLUTION),
        FakeExercise("module_01/ex02_sub", stub=HALF_RIGHT),
    )


def test_results_are_recorded_and_come_back_in_manifest_order(two):
    exercises = load_manifest(two).exercises
    results = check_exercises(two, exercises, Progress.load(two), CheckOptions(jobs=2))
    assert [(r.exercise, r.status) for r in results] == [
        ("module_01/ex01_add", DONE),
        ("module_01/ex02_sub", FAILING),
    ]
    assert Progress.load(two).status("module_01/ex01_add") == DONE


def test_an_unchanged_exercise_is_not_run_again(two, monkeypatch):
    exercises = load_manifest(two).exercises
    check_exercises(two, exercises, Progress.load(two), CheckOptions())
    monkeypatch.setattr("checker.check.check_one", lambda *a: pytest.fail("ran again"))
    results = check_exercises(two, exercises, Progress.load(two), CheckOptions())
    assert all(r.cached for r in results)


def test_force_runs_an_unchanged_exercise_again(two):
    exercise = load_manifest(two).exercises[0]
    check_exercises(two, [exercise], Progress.load(two), CheckOptions())
    [result] = check_exercises(two, [exercise], Progress.load(two), CheckOptions(force=True))
    assert not result.cached


def test_a_tests_own_assertion_message_is_kept_without_pytests_comparison():
    message = (
        "AssertionError: expected tags {'env': 'prod'}; found {'env': 'dev'}\n"
        "assert {'env': 'dev'} == {'env': 'prod'}\n"
        "  \n  Differing items:\n  Use -v to get more diff"
    )
    result = interpret_records(ran(T1, "failed", message=message) + FINISH_FAILED, 1)
    assert result.message == "AssertionError: expected tags {'env': 'prod'}; found {'env': 'dev'}"


def test_a_process_killed_by_a_signal_names_the_signal():
    result = interpret_records([{"event": "start", "nodeid": T1}], returncode=-11)
    assert "stopped unexpectedly (killed by SIGSEGV) while running test_one" in result.message


# --- time to the first verdict, and a fair word when time runs out -------------------------


def test_the_tests_that_failed_last_time_run_first_next_time(tmp_path, monkeypatch):
    fake_kata.fast_checks(monkeypatch)
    kata = make_kata(tmp_path, FakeExercise(stub=HALF_RIGHT))
    progress = Progress.load(kata)
    [first] = check_exercises(kata, load_manifest(kata).exercises, progress, CheckOptions())
    assert first.failed_tests == ["test_adds_negative_numbers"]
    kata.stub(load_manifest(kata).exercises[0]).write_text(HALF_RIGHT + "\n# saved again\n")
    started: list[str] = []

    def on_progress(exercise, report):
        started[:] = list(report.started)

    serial = CheckOptions(forks=1)  # one process: the order is the order they ran in
    check_exercises(kata, load_manifest(kata).exercises, progress, serial, on_progress=on_progress)

    assert started[0].endswith("::test_adds_negative_numbers"), started


SLOW_THEN_QUICK = """\
import time

import pytest


@pytest.fixture
def slow_set_up():
    time.sleep(0.3)


def test_slow(exercise, slow_set_up):
    assert exercise.add(1, 1) == 2


def test_quick(exercise):
    assert exercise.add(2, 2) == 4
"""


def test_the_quickest_of_the_failed_tests_runs_first_next_time(tmp_path, monkeypatch):
    fake_kata.fast_checks(monkeypatch)
    kata = make_kata(tmp_path, FakeExercise(tests=SLOW_THEN_QUICK))
    progress = Progress.load(kata)
    serial = CheckOptions(forks=1)  # one process: the order is the order they ran in
    [first] = check_exercises(kata, load_manifest(kata).exercises, progress, serial)
    assert first.failed_tests == ["test_quick", "test_slow"]
    kata.stub(load_manifest(kata).exercises[0]).write_text(STUB + "\n# saved again\n")
    started: list[str] = []

    def on_progress(exercise, report):
        started[:] = list(report.started)

    check_exercises(kata, load_manifest(kata).exercises, progress, serial, on_progress=on_progress)

    assert started[0].endswith("::test_quick"), started


QUICK_PASS_SLOW_PASS_QUICK_FAIL = """\
import time


def test_quick(exercise):
    assert exercise.add(2, 2) == 4


def test_slow(exercise):
    time.sleep(0.3)
    assert exercise.add(1, 1) == 2


def test_fails(exercise):
    assert exercise.add(1, 1) == 3
"""


def test_after_last_times_failures_the_slowest_passed_test_runs_first(tmp_path, monkeypatch):
    fake_kata.fast_checks(monkeypatch)
    exercise = FakeExercise(stub=SOLUTION, tests=QUICK_PASS_SLOW_PASS_QUICK_FAIL)
    kata = make_kata(tmp_path, exercise)
    progress = Progress.load(kata)
    serial = CheckOptions(forks=1)  # one process: the order is the order they ran in
    [first] = check_exercises(kata, load_manifest(kata).exercises, progress, serial)
    assert (first.failed_tests, first.passed_tests) == (["test_fails"], ["test_slow", "test_quick"])
    kata.stub(load_manifest(kata).exercises[0]).write_text(SOLUTION + "\n# saved again\n")
    started: list[str] = []

    def on_progress(exercise, report):
        started[:] = list(report.started)

    check_exercises(kata, load_manifest(kata).exercises, progress, serial, on_progress=on_progress)

    names = [nodeid.split("::")[-1] for nodeid in started]
    assert names == ["test_fails", "test_slow", "test_quick"], names


def test_each_result_is_handed_on_as_it_lands(tmp_path, monkeypatch):
    fake_kata.fast_checks(monkeypatch)
    kata = make_kata(tmp_path, FakeExercise(stub=HALF_RIGHT))
    seen = []

    exercises, progress = load_manifest(kata).exercises, Progress.load(kata)

    def on_progress(exercise, report):
        seen.append(len(report.tests))

    check_exercises(kata, exercises, progress, CheckOptions(forks=1), on_progress=on_progress)

    assert seen and seen == sorted(seen) and seen[-1] == 2


def _timed(nodeid, started_at, **extra):
    return [{"event": "start", "nodeid": nodeid, "time": started_at, **extra}]


def test_running_out_of_time_with_tests_passing_blames_the_busy_machine_not_the_code():
    records = ran(T1) + _timed(T2, started_at=1000.0)
    report = Report()
    for record in records:
        report.add(record)

    result = interpret(EXERCISE, report, -9, timed_out=True, timeout=60, ended_at=1010.0)

    assert result.problem == TIMEOUT
    assert "ran out of its time budget of 60 s while running test_two" in result.message
    assert "1 of the tests passed so far and none failed" in result.message
    assert "machine is probably busy" in result.message
    assert "--timeout 120" in result.message
    assert "endless loop" not in result.message


def test_a_test_running_for_most_of_the_budget_is_called_stuck():
    report = Report()
    for record in ran(T1) + _timed(T2, started_at=1000.0):
        report.add(record)

    result = interpret(EXERCISE, report, -9, timed_out=True, timeout=60, ended_at=1055.0)

    assert result.message.startswith("timed out after 60 s while running test_two. Is there an")
    assert "--timeout 120" in result.message
