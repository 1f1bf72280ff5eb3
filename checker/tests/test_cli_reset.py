"""`kata reset`: restore the stub as shipped, keeping the learner's file as a backup."""

import subprocess

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


def _commit(root, message):
    identity = ["-c", "user.name=learner", "-c", "user.email=learner@localhost"]
    for command in (["add", "-A"], [*identity, "commit", "-q", "-m", message]):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True)


def test_reset_skips_the_learners_own_commits(tmp_path, cli):
    kata = committed_kata(tmp_path)  # the learner's MINE is saved on top of the stub
    _commit(kata.root, "my work")
    write_stub(kata, "module_01/ex01_add", "def add(a, b):\n    return a - b\n")
    _commit(kata.root, "more of my work")

    code, out = cli(kata, "reset", "ex01", "--yes")

    assert code == 0
    assert (kata.exercises / "module_01/ex01_add.py").read_text() == STUB


def test_reset_restores_the_newest_stub_the_maintainers_shipped(tmp_path, cli):
    kata = make_kata(tmp_path / "kata", FakeExercise())
    git_commit_all(kata.root)
    updated = STUB.replace("Return a + b.", "Return the sum a + b.")
    write_stub(kata, "module_01/ex01_add", updated)
    _commit(kata.root, "clearer docstring")
    write_stub(kata, "module_01/ex01_add", MINE)
    _commit(kata.root, "my work")

    cli(kata, "reset", "ex01", "--yes")

    assert (kata.exercises / "module_01/ex01_add.py").read_text() == updated


def test_reset_outside_a_git_checkout_explains_and_changes_nothing(tmp_path, cli):
    kata = make_kata(tmp_path / "kata", FakeExercise(stub=MINE))
    code, out = cli(kata, "reset", "ex01", "--yes")
    assert code == 1
    assert "is not a git checkout" in out
    assert (kata.exercises / "module_01/ex01_add.py").read_text() == MINE


IDENTITY = ["-c", "user.name=learner", "-c", "user.email=learner@localhost"]


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_reset_undoes_a_committed_module_level_line_in_a_clone(tmp_path, cli):
    upstream = make_kata(tmp_path / "upstream", FakeExercise())
    git_commit_all(upstream.root)
    subprocess.run(
        ["git", "clone", "-q", str(upstream.root), str(tmp_path / "clone")],
        check=True,
        capture_output=True,
    )
    clone = fake_kata.KataPaths(tmp_path / "clone")
    stub = clone.exercises / "module_01/ex01_add.py"
    stub.write_text("import math\n" + STUB)  # an import added, no function filled in yet
    _git(clone.root, "add", "-A")
    _git(clone.root, *IDENTITY, "commit", "-q", "-m", "my work")

    code, out = cli(clone, "reset", "ex01", "--yes")

    assert code == 0, out
    assert stub.read_text() == STUB
    [backup] = (clone.state / "backup" / "module_01").glob("ex01_add-*.py")
    assert backup.read_text().startswith("import math\n")


def test_reset_restores_a_stub_with_an_added_line_that_is_not_committed(tmp_path, cli):
    kata = make_kata(tmp_path / "kata", FakeExercise())
    git_commit_all(kata.root)
    stub = kata.exercises / "module_01/ex01_add.py"
    stub.write_text("LIMIT = 3\n" + STUB)

    code, out = cli(kata, "reset", "ex01", "--yes")

    assert code == 0 and stub.read_text() == STUB, out
