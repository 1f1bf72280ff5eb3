"""Throw-away kata trees for the checker's own tests.

A fake tree has the real layout (exercises/kata.toml, exercises/module_NN/,
solutions/module_NN/) with tiny plain-Python exercises, checked by the real
plugin and its ``exercise`` fixture. Its conftest.py only replaces the
plugin's MLflow store with nothing, so a pytest run in it costs about half a
second instead of importing MLflow.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker.manifest import KataPaths
from checker.warm import WARM_MLFLOW

CONFTEST = '''\
import pytest


@pytest.fixture(autouse=True)
def mlflow_store():
    """The fake exercises are plain Python: no MLflow store needed."""
    yield None
'''

STUB = '''\
"""Add two numbers."""


def add(a, b):
    """Return a + b."""
    # TODO: add them
    raise NotImplementedError("add the two numbers")
'''

SOLUTION = '''\
"""Add two numbers."""


def add(a, b):
    """Return a + b."""
    return a + b
'''

TESTS = """\
def test_adds_two_numbers(exercise):
    assert exercise.add(1, 2) == 3, f"expected 1 + 2 == 3, got {exercise.add(1, 2)!r}"


def test_adds_negative_numbers(exercise):
    assert exercise.add(-1, -2) == -3
"""

# Learner files that go wrong in each way the checker must report plainly.
HALF_RIGHT = '''\
def add(a, b):
    """Return a + b."""
    return 3
'''

SYNTAX_ERROR = """\
def add(a, b)
    return a + b
"""

OS_EXIT = """\
import os


def add(a, b):
    os._exit(0)
"""

SYS_EXIT = """\
import sys


def add(a, b):
    sys.exit(0)
"""

HANG = """\
import time


def add(a, b):
    while True:
        time.sleep(0.05)
"""


@dataclass
class FakeExercise:
    id: str = "module_01/ex01_add"
    stub: str = STUB
    tests: str = TESTS
    solution: str = SOLUTION
    title: str = "Add two numbers"
    hints: tuple[str, ...] = ("Think about the + operator.", "return a + b, roughly.")
    timeout: int | None = None


def manifest_text(modules, exercises) -> str:
    lines = []
    for module in modules:
        lines += ["[[modules]]", f'id = "{module}"', f'title = "Module {module[-2:]}"', ""]
    for ex in exercises:
        lines += [
            "[[exercises]]",
            f'id = "{ex.id}"',
            f'title = "{ex.title}"',
            'concepts = ["arithmetic"]',
            'docs = ["https://mlflow.org/docs/latest/"]',
            "hints = [" + ", ".join(f'"{h}"' for h in ex.hints) + "]",
        ]
        if ex.timeout:
            lines.append(f"timeout = {ex.timeout}")
        lines.append("")
    return "\n".join(lines)


def make_kata(root: Path, *exercises: FakeExercise, modules=None) -> KataPaths:
    """Write a fake kata tree under ``root`` (default: one passing-solution exercise)."""
    exercises = exercises or (FakeExercise(),)
    modules = modules or sorted({ex.id.split("/")[0] for ex in exercises})
    kata = KataPaths(Path(root))
    kata.exercises.mkdir(parents=True, exist_ok=True)
    (kata.root / "conftest.py").write_text(CONFTEST)
    kata.manifest.write_text(manifest_text(modules, exercises))
    for module in sorted(set(modules) | {ex.id.split("/")[0] for ex in exercises}):
        (kata.exercises / module).mkdir(parents=True, exist_ok=True)
        (kata.exercises / module / "README.md").write_text(f"# {module}\n")
    for ex in exercises:
        module, stem = ex.id.split("/")
        for folder in (kata.exercises / module, kata.solutions / module):
            folder.mkdir(parents=True, exist_ok=True)
        (kata.exercises / module / f"{stem}.py").write_text(ex.stub)
        (kata.exercises / module / f"test_{stem}.py").write_text(ex.tests)
        (kata.solutions / module / f"{stem}.py").write_text(ex.solution)
    return kata


def write_stub(kata: KataPaths, exercise_id: str, source: str) -> Path:
    path = kata.exercises / f"{exercise_id}.py"
    path.write_text(source)
    return path


def git_commit_all(root: Path) -> None:
    """Make ``root`` a git repository with everything committed (for `kata reset`)."""
    identity = ["-c", "user.name=kata-test", "-c", "user.email=kata-test@localhost"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "fake kata"]):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True)


# Plugins the fake exercises never need; without them a pytest run takes half the time.
FAST_PYTEST = "-p no:xdist"


def fast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks of fake exercises skip what they never use: pytest's xdist plugin, and
    MLflow in a warm worker (which then starts in 0.5 s instead of 4-6 s)."""
    monkeypatch.setenv("PYTEST_ADDOPTS", FAST_PYTEST)
    monkeypatch.setenv(WARM_MLFLOW, "0")


@pytest.fixture
def mlflow_store(monkeypatch):
    """Stands in for the plugin's autouse store (these tests never touch MLflow), and
    makes the checks a test starts skip what fake exercises do not need."""
    fast_checks(monkeypatch)
    yield None


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``kata --root <tree> ARGS...`` in this process: returns (exit status, output)."""
    from checker.cli import main

    monkeypatch.setenv("COLUMNS", "250")  # rich wraps at 80 columns without a terminal

    def run(kata: KataPaths, *args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["--root", str(kata.root), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run
