"""`kata check`: which exercises it runs, what it prints, its exit status."""

import re

from checker.progress import Progress
from checker.tests import fake_kata
from checker.tests.fake_kata import HALF_RIGHT, SOLUTION, STUB, FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli


def kata_with(tmp_path, first=SOLUTION, second=STUB):
    return make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_add", stub=first),
        FakeExercise("module_01/ex02_sub", stub=second),
    )


def test_check_without_an_argument_checks_the_first_exercise_not_done(tmp_path, cli):
    kata = kata_with(tmp_path)
    code, out = cli(kata, "check")
    assert code == 0
    assert "module_01/ex01_add  done: all 2 tests pass" in out
    assert "Next: module_01/ex02_sub" in out
    code, out = cli(kata, "check")
    assert code == 1
    assert "module_01/ex02_sub  not started: all 2 tests raise NotImplementedError" in out


def test_check_shows_the_first_failure_and_the_learners_line(tmp_path, cli):
    source = "def add(a, b):\n    assert a < 0, 'only negative numbers, please'\n    return a + b\n"
    kata = kata_with(tmp_path, first=source)
    code, out = cli(kata, "check", "ex01")
    assert code == 1
    assert "test_adds_two_numbers" in out
    assert "AssertionError: only negative numbers, please" in out
    assert "at exercises/module_01/ex01_add.py:2 in add" in out
    assert "assert a < 0, 'only negative numbers, please'" in out
    assert "Traceback" not in out


def test_check_of_an_unchanged_exercise_says_so_and_reuses_the_result(tmp_path, cli):
    kata = kata_with(tmp_path, first=HALF_RIGHT)
    cli(kata, "check", "ex01")
    code, out = cli(kata, "check", "ex01")
    assert code == 1
    assert "1/2 tests pass  (unchanged since last check; --force re-runs)" in out


def test_check_of_a_module_checks_each_exercise_and_fails_unless_all_pass(tmp_path, cli):
    kata = kata_with(tmp_path)
    code, out = cli(kata, "check", "module_01")
    assert code == 1
    assert "1/2 exercises pass." in out
    progress = Progress.load(kata)
    assert progress.status("module_01/ex01_add") == "done"
    assert progress.status("module_01/ex02_sub") == "not_started"


def test_check_all_exits_0_when_every_exercise_passes(tmp_path, cli):
    kata = kata_with(tmp_path, second=SOLUTION)
    code, out = cli(kata, "check", "--all")
    assert code == 0
    assert "2/2 exercises pass." in out


def test_check_verbose_passes_pytests_output_through(tmp_path, cli):
    code, out = cli(kata_with(tmp_path), "check", "ex01", "-v")
    assert "test_adds_two_numbers PASSED" in out


def test_check_of_an_unknown_exercise_suggests_close_matches(tmp_path, cli):
    code, out = cli(kata_with(tmp_path), "check", "ex01_ad")
    assert code == 2
    assert "There is no exercise 'ex01_ad'. Did you mean 'ex01_add'" in out


def test_check_when_everything_is_done_says_so(tmp_path, cli):
    kata = kata_with(tmp_path, second=SOLUTION)
    cli(kata, "check", "--all")
    code, out = cli(kata, "check")
    assert code == 0
    assert "Every exercise is done" in out


SLOW_TESTS = """\
import time


def test_adds_two_numbers(exercise):
    time.sleep(1.5)
    assert exercise.add(1, 2) == 3
"""


def test_check_of_a_module_prints_results_in_learning_order_even_when_run_in_parallel(
    tmp_path, cli
):
    kata = make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_add", stub=SOLUTION, tests=SLOW_TESTS),
        FakeExercise("module_01/ex02_sub", stub=SOLUTION),
    )
    code, out = cli(kata, "check", "module_01", "--jobs", "2")
    assert code == 0
    assert out.index("module_01/ex01_add") < out.index("module_01/ex02_sub")


def _colours(text: str) -> list[str]:
    """The colour codes (foreground or background) among the text's ANSI styles."""
    codes = [p for m in re.findall(r"\x1b\[([\d;]*)m", text) for p in m.split(";") if p]
    return [c for c in codes if 30 <= int(c) <= 49 or 90 <= int(c) <= 107]


def test_output_has_no_escape_codes_when_it_is_not_a_terminal(tmp_path, cli):
    code, out = cli(kata_with(tmp_path, first=HALF_RIGHT), "check", "ex01")
    assert "\x1b[" not in out


def test_no_color_turns_colours_off_even_in_a_terminal(tmp_path, cli, monkeypatch):
    kata = kata_with(tmp_path, first=HALF_RIGHT)
    monkeypatch.setenv("FORCE_COLOR", "1")  # pretend to be a terminal
    _, coloured = cli(kata, "check", "ex01", "--force")
    monkeypatch.setenv("NO_COLOR", "1")
    _, plain = cli(kata, "check", "ex01", "--force")
    assert _colours(coloured) and not _colours(plain)


def test_a_failure_in_the_learners_code_names_its_path_and_line_for_editors(tmp_path, cli):
    source = "def add(a, b):\n    return a + b + undefined_name\n"
    code, out = cli(kata_with(tmp_path, first=source), "check", "ex01")
    assert "at exercises/module_01/ex01_add.py:2 in add" in out


def test_check_prints_the_first_failure_as_it_lands_and_only_once(tmp_path, cli):
    kata = kata_with(tmp_path, first=HALF_RIGHT)
    code, out = cli(kata, "check", "ex01")

    assert code == 1
    assert "first failure:" in out
    assert out.count("AssertionError: assert 3 == -3") == 1, out
    assert out.index("first failure:") < out.index("module_01/ex01_add  1/2 tests pass")
