"""`kata reset`: restore the committed stub, keeping the learner's file as a backup."""

from checker.progress import Progress
from checker.tests import fake_kata
from checker.tests.fake_kata import STUB, FakeExercise, git_commit_all, make_kata, write_stub

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli

MINE = "def add(a, b):\n    return 42\n"


def committed_kata(tmp_path):
    kata = make_kata(tmp_path / "kata", FakeExercise())
    git_commit_all(kata.root)
    write_stub(kata, "module_01/ex01_add", MINE)
    return kata


def test_reset_restores_the_committed_stub(tmp_path, cli):
    kata = committed_kata(tmp_path)
    code, out = cli(kata, "reset", "ex01", "--yes")
    assert code == 0
    assert (kata.exercises / "module_01/ex01_add.py").read_text() == STUB
    assert "Restored exercises/module_01/ex01_add.py" in out


def test_reset_keeps_a_backup_and_says_where(tmp_path, cli):
    kata = committed_kata(tmp_path)
    code, out = cli(kata, "reset", "ex01", "--yes")
    [backup] = (kata.state / "backup" / "module_01").glob("ex01_add-*.py")
    assert backup.read_text() == MINE
    assert f"Your version is in .kata/backup/module_01/{backup.name}" in out


def test_reset_forgets_the_last_check(tmp_path, cli):
    kata = committed_kata(tmp_path)
    cli(kata, "check", "ex01")
    cli(kata, "reset", "ex01", "--yes")
    assert Progress.load(kata).result("module_01/ex01_add") is None


def test_reset_without_yes_and_without_a_terminal_changes_nothing(tmp_path, cli):
    kata = committed_kata(tmp_path)
    code, out = cli(kata, "reset", "ex01")
    assert code == 1
    assert "add --yes" in out
    assert (kata.exercises / "module_01/ex01_add.py").read_text() == MINE


def test_reset_of_an_untouched_stub_does_nothing(tmp_path, cli):
    kata = make_kata(tmp_path / "kata", FakeExercise())
    git_commit_all(kata.root)
    code, out = cli(kata, "reset", "ex01", "--yes")
    assert code == 0
    assert "already the original stub" in out
    assert not (kata.state / "backup").exists()


def test_reset_outside_a_git_checkout_explains_and_changes_nothing(tmp_path, cli):
    kata = make_kata(tmp_path / "kata", FakeExercise(stub=MINE))
    code, out = cli(kata, "reset", "ex01", "--yes")
    assert code == 1
    assert "is not a git checkout" in out
    assert (kata.exercises / "module_01/ex01_add.py").read_text() == MINE
