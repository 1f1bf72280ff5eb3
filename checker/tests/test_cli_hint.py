"""`kata hint`: one hint at a time, gentlest first, remembered between calls."""

from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli

HINTS = ("Look at mlflow.set_tracking_uri.", "Pass the store's URI.", "Then start a run.")


def test_hints_come_one_at_a_time_gentlest_first(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(hints=HINTS))
    assert "Hint 1/3: Look at mlflow.set_tracking_uri." in cli(kata, "hint", "ex01")[1]
    assert "Hint 2/3: Pass the store's URI." in cli(kata, "hint", "ex01")[1]
    assert "Hint 3/3: Then start a run." in cli(kata, "hint", "ex01")[1]


def test_hint_says_when_there_are_no_more(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(hints=HINTS[:1]))
    cli(kata, "hint", "ex01")
    code, out = cli(kata, "hint", "ex01")
    assert code == 0
    assert "No more hints: you have seen all 1." in out


def test_hint_all_shows_every_hint(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(hints=HINTS))
    out = cli(kata, "hint", "ex01", "--all")[1]
    assert all(hint in out for hint in HINTS)


def test_hint_without_an_exercise_helps_with_the_current_one(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(hints=HINTS))
    out = cli(kata, "hint")[1]
    assert "module_01/ex01_add" in out and "Hint 1/3" in out


def test_hint_accepts_a_short_name(tmp_path, cli):
    kata = make_kata(tmp_path, FakeExercise(hints=HINTS))
    assert "Hint 1/3" in cli(kata, "hint", "ex01_add")[1]
