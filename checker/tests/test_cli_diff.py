"""`kata diff`: your file against the reference solution, once it passes."""

from checker.tests import fake_kata
from checker.tests.fake_kata import HALF_RIGHT, SOLUTION, FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli


def test_diff_refuses_until_the_exercise_passes_and_says_how(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(stub=HALF_RIGHT))
    code, out = cli(kata, "diff", "ex01")
    assert code == 1
    assert "does not pass yet" in out
    assert "kata diff module_01/ex01_add --peek" in out


def test_diff_peek_shows_the_solution_anyway(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(stub=HALF_RIGHT))
    code, out = cli(kata, "diff", "ex01", "--peek")
    assert code == 0
    assert "--- exercises/module_01/ex01_add.py (yours)" in out
    assert "+++ solutions/module_01/ex01_add.py" in out
    assert "-    return 3" in out
    assert "+    return a + b" in out


def test_diff_after_a_pass_shows_the_differences(tmp_path, cli):
    mine = SOLUTION.replace("return a + b", "return b + a")
    kata = make_kata(tmp_path, FakeExercise(stub=mine))
    cli(kata, "check", "ex01")
    code, out = cli(kata, "diff", "ex01")
    assert code == 0
    assert "-    return b + a" in out and "+    return a + b" in out


def test_diff_of_a_file_identical_to_the_solution_says_so(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(stub=SOLUTION))
    code, out = cli(kata, "diff", "ex01", "--peek")
    assert "is identical to the reference solution" in out
