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
    # ruff check, ruff format, the manifest, 2 solution tests (a module's verify runs
    # neither mypy nor the checker's own tests); failed: 2 stub tests
    assert out.strip().splitlines()[-1] == "5 passed, 2 failed"


def test_verify_of_an_unknown_module_is_an_error(tmp_path, cli):
    code, out = cli(with_checker_tests(make_kata(tmp_path)), "verify", "module_07")
    assert code == 2
    assert "There is no module 'module_07'" in out


def with_mutants(kata, module, stem, *mutants):
    """Wrong solutions of ``module/stem``: (name, replace, with) edits of its solution."""
    folder = kata.root / "checker" / "tests" / "mutants" / module
    folder.mkdir(parents=True, exist_ok=True)
    entries = [
        f'[[mutants]]\nname = "{name}"\nwhy = "wrong"\n'
        f'[[mutants.edits]]\nreplace = "{old}"\nwith = "{new}"\n'
        for name, old, new in mutants
    ]
    (folder / f"{stem}.toml").write_text("\n".join(entries))
    return kata


def test_verify_checks_that_every_wrong_solution_fails_a_test(tmp_path, cli):
    kata = with_checker_tests(make_kata(tmp_path))
    with_mutants(
        kata,
        "module_01",
        "ex01_add",
        ("subtracts", "return a + b", "return a - b"),
        ("same_answer", "return a + b", "return b + a"),  # not wrong: the tests cannot fail
    )

    code, out = cli(kata, "verify", "-n", "0")

    assert code == 1
    assert "PASS module_01/ex01_add: wrong solution 'subtracts' is rejected" in out
    assert "FAIL module_01/ex01_add: wrong solution 'same_answer' is rejected" in out
    assert "it passes every test: the tests do not catch this mistake" in out


def test_verify_of_a_module_runs_only_its_exercises_and_prints_times(tmp_path, cli):
    kata = with_checker_tests(
        make_kata(tmp_path, FakeExercise("module_01/ex01_add"), FakeExercise("module_02/ex01_mul"))
    )
    with_mutants(kata, "module_01", "ex01_add", ("subtracts", "return a + b", "return a - b"))
    with_mutants(kata, "module_02", "ex01_mul", ("subtracts", "return a + b", "return a - b"))

    code, out = cli(kata, "verify", "module_01", "-n", "0")

    assert code == 0, out
    assert "module_01/ex01_add: wrong solution 'subtracts' is rejected" in out
    assert "module_02" not in out.split("== 4/5")[1]
    assert len(re.findall(r"^  \(\d+\.\d s\)$", out, flags=re.M)) == 5
    assert re.search(r"^    module_01 +\d+\.\d$", out, flags=re.M)
    assert "slowest tests" in out
    assert "checker/tests/test_ok.py" not in out  # the harness's own tests: full verify only


def test_verify_runs_the_tests_in_random_order_and_replays_an_order_by_its_seed(tmp_path, cli):
    kata = with_checker_tests(make_kata(tmp_path))
    order = kata.root / "checker" / "tests" / "order.txt"
    tests = "".join(
        f'\n\ndef test_{n}():\n    with ORDER.open("a") as order:\n        order.write("{n} ")\n'
        for n in range(8)
    )
    (kata.root / "checker" / "tests" / "test_order.py").write_text(
        f'from pathlib import Path\n\nORDER = Path(__file__).with_name("order.txt")\n{tests}'
    )

    def run(seed):
        order.write_text("")
        code, out = cli(kata, "verify", "-n", "0", "--seed", str(seed))
        assert code == 0, out
        assert f"seed {seed}" in out
        return order.read_text().split()

    orders = {seed: run(seed) for seed in (1, 2)}
    assert run(1) == orders[1]
    assert sorted(orders[1], key=int) == [str(n) for n in range(8)]
    assert orders[1] != orders[2]


def test_a_test_that_crashes_its_process_is_named_and_the_run_still_ends(tmp_path, cli):
    kata = with_checker_tests(make_kata(tmp_path))
    (kata.root / "checker" / "tests" / "test_crash.py").write_text(
        "import os\n\n\ndef test_that_crashes():\n    os._exit(1)\n"
    )

    code, out = cli(kata, "verify", "-n", "2", "--timeout", "60")

    assert code == 1, out
    assert "checker/tests/test_crash.py::test_that_crashes" in out
    assert "crashed while running" in out
    assert "timed out" not in out, "the run hung after the crash"
