"""The warm worker learns what a check imports on first use and loads it before the next."""

import sys
import types
from pathlib import Path

import pytest

from checker import learned_imports
from checker.check import CheckOptions, check_one
from checker.manifest import load_manifest
from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata
from checker.warm import WarmWorker, can_fork

# Each test looks for a stdlib module that nothing else in a check imports, then imports it
# (with two forks, each test runs in a process of its own).
FIRST_USE_TESTS = """\
import sys


def test_wave_was_loaded_before_this_check(exercise):
    loaded = "wave" in sys.modules
    import wave  # noqa: F401
    assert loaded and exercise.add(1, 2) == 3


def test_mailbox_was_loaded_before_this_check(exercise):
    loaded = "mailbox" in sys.modules
    import mailbox  # noqa: F401
    assert loaded and exercise.add(1, 2) == 3
"""


@pytest.fixture
def watched(tmp_path, monkeypatch):
    """``learned_imports`` watching this process, as in a forked check; the file it writes."""
    monkeypatch.setattr(learned_imports, "_watch", {})
    path = tmp_path / "output.txt.imports"
    learned_imports.watch(path, tmp_path / "kata")
    return path


def _add_module(monkeypatch, name: str, file: str | None, hidden: bool = False) -> None:
    module = types.ModuleType(name)
    if file is not None:
        module.__file__ = file
    monkeypatch.setitem(sys.modules, name, None if hidden else module)


def test_the_libraries_a_process_imported_are_written_down_and_read_back(watched, monkeypatch):
    library = str(Path(sys.prefix) / "lib" / "made_up_library.py")
    _add_module(monkeypatch, "made_up_library", library)
    learned_imports.write_down()
    monkeypatch.delitem(sys.modules, "made_up_library")

    assert learned_imports.read(watched) == ["made_up_library"]
    assert not watched.exists(), "the file is deleted once read"


def test_the_kata_s_own_files_hidden_modules_and_grpc_are_never_learned(
    watched, tmp_path, monkeypatch
):
    _add_module(monkeypatch, "ex01_add", str(tmp_path / "kata" / "exercises" / "ex01_add.py"))
    _add_module(monkeypatch, "made_up_hidden", None, hidden=True)
    _add_module(monkeypatch, "grpc_made_up_child", None)
    monkeypatch.setitem(sys.modules, "grpc", sys.modules.get("grpc") or types.ModuleType("grpc"))
    learned_imports.write_down()

    learned = watched.read_text()
    assert "ex01_add" not in learned and "made_up_hidden" not in learned
    assert '"grpc"' not in learned and "grpc_made_up_child" in learned


@pytest.mark.skipif(not can_fork(), reason="the warm worker needs fork()")
@pytest.mark.parametrize("forks", [1, 2])
def test_a_library_a_check_imported_on_first_use_is_loaded_before_the_next_check(
    tmp_path, monkeypatch, forks
):
    kata = make_kata(tmp_path, FakeExercise(tests=FIRST_USE_TESTS, stub=fake_kata.SOLUTION))
    exercise = load_manifest(kata).exercises[0]
    monkeypatch.setenv("PYTEST_ADDOPTS", fake_kata.FAST_PYTEST)
    worker = WarmWorker(kata).start()
    try:
        options = CheckOptions()
        first = check_one(kata, exercise, options, run=worker.run, forks=forks)
        second = check_one(kata, exercise, options, run=worker.run, forks=forks)
    finally:
        worker.stop()

    assert (first.passed, second.passed) == (0, 2), (
        f"expected wave and mailbox loaded only for the second check; passed {first.passed} of "
        f"{first.total}, then {second.passed} of {second.total}: {second.message}"
    )
