"""`kata verify`: the maintainers' check, run on throw-away kata trees."""

import re

from checker.tests import fake_kata
from checker.tests.fake_kata import HALF_RIGHT, SOLUTION, FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli

CHECKER_TEST = "def test_the_checker_works():\n    assert True\n"


def with_checker_tests(kata):
    (kata.root / "checker" / "tests").mkdir(parents=True)
    (kata.root / "checker" / "tests" / "test_ok.py").write_text(CHECKER_TEST)
    return kata


def test_verify_of_a_sound_kata_passes_every_check_and_says_so_last(tmp_path, cli):
    kata = with_checker_tests(make_kata(tmp_path))
    code, out = cli(kata, "verify", "-n", "0")
    assert code == 0
    # ruff check, ruff format, mypy, the manifest, 1 checker test, 2 solution tests,
    # 2 stub tests
    assert out.strip().splitlines()[-1] == "9 passed, 0 failed"


def test_verify_counts_each_broken_test_and_exits_non_zero(tmp_path, cli):
    kata = with_checker_tests(make_kata(tmp_path, FakeExercise(stub=SOLUTION, solution=HALF_RIGHT)))
    (kata.exercises / "module_01" / "ex02_stray.py").write_text("")
    code, out = cli(kata, "verify", "-n", "0")
    assert code == 1
    # the stray file fails the manifest; the solution fails 1 test; the stub passes 2
    assert out.strip().splitlines()[-1] == "5 passed, 4 failed"
    assert "exercises/module_01/ex02_stray.py: stub without a manifest entry" in out
    assert "fails on the reference solution: AssertionError: assert 3 == -3" in out
    assert "passes on the untouched stub" in out


def test_verify_reports_a_stub_failing_for_another_reason_than_not_implemented(tmp_path, cli):
    broken_stub = "def add(a, b):\n    return None\n"
    kata = with_checker_tests(make_kata(tmp_path, FakeExercise(stub=broken_stub)))
    code, out = cli(kata, "verify", "module_01", "-n", "0")
    assert code == 1
    assert "fails on the stub with AssertionError instead of NotImplementedError" in out
    assert out.strip().splitlines()[-1] == "7 passed, 2 failed"


def test_verify_of_an_unknown_module_is_an_error(tmp_path, cli):
    code, out = cli(with_checker_tests(make_kata(tmp_path)), "verify", "module_07")
    assert code == 2
    assert "There is no module 'module_07'" in out


MUTANT_TESTS = """\
import pytest


@pytest.mark.parametrize("spec", ["module_01/ex01_add", "module_02/ex01_mul"])
def test_the_exercise_tests_reject_every_plausible_wrong_solution(spec):
    assert True
"""


def test_verify_of_a_module_runs_only_that_modules_mutants_and_prints_step_times(tmp_path, cli):
    kata = with_checker_tests(
        make_kata(tmp_path, FakeExercise("module_01/ex01_add"), FakeExercise("module_02/ex01_mul"))
    )
    (kata.root / "checker" / "tests" / "test_mutants.py").write_text(MUTANT_TESTS)

    code, out = cli(kata, "verify", "module_01", "-n", "0")

    assert code == 0, out
    assert "PASS checker/tests/test_mutants.py::test_the_exercise_tests_reject" in out
    assert "[module_01/ex01_add]" in out and "[module_02/ex01_mul]" not in out
    assert out.count("test_mutants.py") == 1  # not also among the checker's own tests
    assert len(re.findall(r"^  \(\d+\.\d s\)$", out, flags=re.M)) == 7
