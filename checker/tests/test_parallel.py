"""--kata-forks: one check's tests on several cores, reported as a serial run reports them."""

import subprocess
import sys
from types import SimpleNamespace

import pytest

from checker.check import interpret
from checker.manifest import load_manifest
from checker.parallel import Dealer, can_fork
from checker.report import read_report
from checker.runners import pytest_flags
from checker.tests import fake_kata
from checker.tests.fake_kata import SOLUTION, FakeExercise, make_kata

pytestmark = pytest.mark.skipif(not can_fork(), reason="--kata-forks needs fork()")
mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests

FOUR_TESTS = """\
def test_one(exercise):
    assert exercise.add(1, 1) == 2


def test_two(exercise):
    assert exercise.add(2, 2) == 4


def test_three(exercise):
    assert exercise.add(3, 3) == 7, "three and three make six"


def test_four(exercise):
    assert exercise.crash_in_four(4) == 8
"""

FINE = SOLUTION + "\n\ndef crash_in_four(x):\n    return x * 2\n"
OS_EXIT_IN_FOUR = SOLUTION + "\n\ndef crash_in_four(x):\n    import os\n    os._exit(7)\n"
SEGFAULT_IN_FOUR = (
    SOLUTION + "\n\ndef crash_in_four(x):\n    import ctypes\n    ctypes.string_at(0)\n"
)


def _run(tmp_path, stub: str, forks: int):
    kata = make_kata(tmp_path / f"kata{forks}", FakeExercise(stub=stub, tests=FOUR_TESTS))
    exercise = load_manifest(kata).exercises[0]
    report_file = tmp_path / f"report{forks}.jsonl"
    command = [sys.executable, "-m", "pytest", str(kata.test_file(exercise)), "-q"]
    command += [*pytest_flags(kata), "--kata-report", str(report_file), "-p", "no:xdist"]
    command += ["--kata-forks", str(forks)]
    done = subprocess.run(command, cwd=kata.root, capture_output=True, text=True, timeout=120)
    report = read_report(report_file)
    return interpret(exercise, report, done.returncode), report, done


def _outcomes(report):
    return {
        nodeid.split("::")[-1]: (
            test.outcome,
            test.failure.message.splitlines()[0] if test.failure else None,
        )
        for nodeid, test in report.tests.items()
    }


def test_two_forks_report_exactly_what_one_process_reports(tmp_path):
    serial, serial_report, _ = _run(tmp_path, FINE, forks=1)
    forked, forked_report, done = _run(tmp_path, FINE, forks=2)

    assert _outcomes(forked_report) == _outcomes(serial_report)
    assert (forked.status, forked.passed, forked.total, forked.test) == (
        serial.status,
        serial.passed,
        serial.total,
        serial.test,
    )
    assert forked.message.splitlines()[0] == serial.message.splitlines()[0]
    assert forked.message.startswith("AssertionError: three and three make six")
    assert "1 failed, 3 passed" in done.stdout  # pytest's own summary counts every test


def test_a_fork_that_exits_stops_the_run_and_names_its_test(tmp_path):
    result, report, done = _run(tmp_path, OS_EXIT_IN_FOUR, forks=2)

    assert done.returncode == 7
    assert not report.finished
    assert result.problem == "crash"
    assert "stopped unexpectedly (exit code 7) while running test_four" in result.message


def test_a_fork_that_crashes_in_native_code_is_reported_like_a_serial_crash(tmp_path):
    serial, _, _ = _run(tmp_path, SEGFAULT_IN_FOUR, forks=1)
    forked, _, _ = _run(tmp_path, SEGFAULT_IN_FOUR, forks=2)

    assert forked.problem == serial.problem == "crash"
    assert forked.message == serial.message
    assert "(killed by SIGSEGV) while running test_four" in forked.message


def _item(name, group=None):
    marker = SimpleNamespace(args=(group,), kwargs={}) if group else None
    return SimpleNamespace(name=name, get_closest_marker=lambda _name: marker)


def _names(items, dealt):
    return [[items[n].name for n in share] for share in dealt]


def _ask(dealer, items, fork):
    test = dealer.next_for(fork)
    return None if test is None else items[test].name


def test_the_first_tests_are_dealt_round_robin_so_they_start_at_once():
    items = [_item(f"t{n}") for n in range(5)]
    dealer = Dealer(items, 2)
    assert _names(items, dealer.first_tests()) == [["t0", "t2"], ["t1", "t3"]]


def test_the_fork_that_asks_first_gets_the_next_test_in_order():
    items = [_item(f"t{n}") for n in range(6)]
    dealer = Dealer(items, 2)
    dealer.first_tests()
    assert [_ask(dealer, items, 1), _ask(dealer, items, 1), _ask(dealer, items, 0)] == [
        "t4",
        "t5",
        None,
    ]


def test_tests_of_one_xdist_group_stay_in_one_fork():
    items = [_item("a"), _item("s1", "spark"), _item("b"), _item("s2", "spark"), _item("c")]
    dealer = Dealer(items, 2)
    dealt = _names(items, dealer.first_tests())
    for fork, share in enumerate(dealt):
        while (name := _ask(dealer, items, fork)) is not None:
            share.append(name)
    assert any({"s1", "s2"} <= set(share) for share in dealt), dealt
    assert not any({"s1", "s2"} & set(share) for share in dealt if "s1" not in share), dealt


def test_a_group_whose_service_kata_watch_runs_is_dealt_like_other_tests(monkeypatch):
    items = [_item(f"t{n}", "mlflow_server") for n in range(4)]
    monkeypatch.delenv("KATA_MLFLOW_SERVER", raising=False)
    assert Dealer(items, 2).forks == 1  # one server started for the group, in one fork

    monkeypatch.setenv("KATA_MLFLOW_SERVER", "http://127.0.0.1:5999")
    dealer = Dealer(items, 2)
    assert _names(items, dealer.first_tests()) == [["t0", "t2"], ["t1", "t3"]]


def test_one_test_or_one_fork_means_no_fork():
    assert Dealer([_item("only")], 4).forks == 1
    assert Dealer([_item("a"), _item("b")], 1).forks == 1


WAITS_FOR_THE_LAST = """\
import pathlib
import time

SIGNAL = pathlib.Path({signal!r})


def test_waits_for_the_last_test(exercise):
    deadline = time.monotonic() + 20
    while not SIGNAL.exists():
        assert time.monotonic() < deadline, "the last test never ran in the other fork"
        time.sleep(0.01)


def test_a(exercise):
    assert exercise.add(1, 1) == 2


def test_b(exercise):
    assert exercise.add(1, 2) == 3


def test_c(exercise):
    assert exercise.add(2, 2) == 4


def test_the_last(exercise):
    SIGNAL.touch()
"""


def test_a_fork_busy_with_a_long_test_leaves_the_next_tests_to_the_other_fork(tmp_path):
    # Dealt round robin, the last test would wait behind the first, which waits for it.
    tests = WAITS_FOR_THE_LAST.format(signal=str(tmp_path / "the-last-test-ran"))
    kata = make_kata(tmp_path / "kata", FakeExercise(stub=SOLUTION, tests=tests))
    exercise = load_manifest(kata).exercises[0]
    command = [sys.executable, "-m", "pytest", str(kata.test_file(exercise)), "-q"]
    command += [*pytest_flags(kata), "-p", "no:xdist", "--kata-forks", "2"]

    done = subprocess.run(command, cwd=kata.root, capture_output=True, text=True, timeout=120)

    assert "5 passed" in done.stdout, done.stdout[-2000:]


HANG_IN_FOUR = SOLUTION + "\n\ndef crash_in_four(x):\n    import time\n    time.sleep(60)\n"


def test_a_hang_in_one_fork_is_named_when_the_time_budget_runs_out(tmp_path, monkeypatch):
    from checker.check import CheckOptions, check_one

    fake_kata.fast_checks(monkeypatch)
    kata = make_kata(tmp_path, FakeExercise(stub=HANG_IN_FOUR, tests=FOUR_TESTS, timeout=3))
    exercise = load_manifest(kata).exercises[0]

    result = check_one(kata, exercise, CheckOptions(), forks=2)

    assert result.problem == "timeout"
    assert result.message.startswith("timed out after 3 s while running test_four")
