"""A plain `pytest` run of an exercise records its result, as `kata check` does."""

import subprocess
import sys

from checker.manifest import load_manifest
from checker.progress import DONE, Progress
from checker.tests import fake_kata
from checker.tests.fake_kata import HALF_RIGHT, SOLUTION, FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli


def _pytest(kata, *args):
    """A plain pytest run in the fake kata, with the flags the repository's pyproject.toml
    sets (no plugin auto-loaded: 0.2 s instead of 2.5 s) and the kata's plugin."""
    command = [sys.executable, "-m", "pytest", "-q", "--disable-plugin-autoload"]
    command += ["-p", "checker.plugin", "--rootdir", str(kata.root), "--import-mode=importlib"]
    command += args
    return subprocess.run(command, cwd=kata.root, capture_output=True, text=True, timeout=120)


def _status(kata):
    return Progress.load(kata).status("module_01/ex01_add")


def test_a_green_pytest_run_of_an_exercise_records_it_as_done(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(stub=SOLUTION))

    done = _pytest(kata, "exercises/module_01/test_ex01_add.py")

    assert "kata: recorded module_01/ex01_add as done" in done.stdout
    assert _status(kata) == DONE
    code, out = cli(kata, "diff", "ex01")  # opens after a pytest pass, as the README says
    assert code == 0, out


def test_a_failing_run_records_the_failure_and_the_failed_tests(tmp_path):
    kata = make_kata(tmp_path, FakeExercise(stub=HALF_RIGHT))

    _pytest(kata, "exercises/module_01")

    result = Progress.load(kata).result("module_01/ex01_add")
    assert (result.status, result.passed, result.total) == ("failing", 1, 2)
    assert result.failed_tests == ["test_adds_negative_numbers"]


def test_kata_and_pytest_agree_on_what_comes_next(tmp_path, cli):
    kata = make_kata(
        tmp_path,
        FakeExercise(stub=SOLUTION),
        FakeExercise("module_01/ex02_more"),
    )
    _pytest(kata, "exercises/module_01/test_ex01_add.py")

    _, out = cli(kata, "list")
    following = Progress.load(kata).next_exercise(load_manifest(kata))
    assert following.id == "module_01/ex02_more"
    assert "→" in out.split("ex02_more")[0].splitlines()[-1]


def test_a_run_of_some_tests_only_records_nothing(tmp_path):
    kata = make_kata(tmp_path, FakeExercise(stub=SOLUTION))

    _pytest(kata, "exercises/module_01/test_ex01_add.py", "-k", "negative")
    _pytest(kata, "exercises/module_01/test_ex01_add.py::test_adds_two_numbers")

    assert Progress.load(kata).result("module_01/ex01_add") is None


def test_a_run_against_the_solutions_records_nothing(tmp_path):
    kata = make_kata(tmp_path)

    _pytest(kata, "exercises/module_01", "--solutions")

    assert Progress.load(kata).result("module_01/ex01_add") is None
