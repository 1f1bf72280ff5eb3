"""How the kata runs pytest: the flags of every run, and a run in a new process.

``kata check`` runs an exercise's tests through a ``Runner``: ``cold_run`` starts a
new ``python -m pytest``; ``checker.warm`` runs them in a fork of a warm worker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from checker.manifest import KataPaths
from checker.process import ProcessOutcome, run_process


def pytest_flags(kata: KataPaths) -> list[str]:
    """Flags of every pytest run of the checker.

    No plugin is auto-loaded from the installed packages: langsmith's, hypothesis's
    and anyio's cost seconds at every start and give nothing here (``@given`` works
    without its plugin), and pytest would rewrite the asserts of every plugin
    package on every start (the machine does not keep byte code). xdist is
    loaded by name; ``-p checker.plugin`` makes the kata's options available even
    in a tree without the repository's conftest.py; an explicit rootdir keeps test
    ids relative to the kata root (and tells the plugin where the kata is);
    importlib mode lets two modules have test files of the same name.
    """
    return [
        "-p", "no:cacheprovider",
        "--disable-plugin-autoload",
        "-p", "xdist.plugin",
        "-p", "checker.plugin",
        "--rootdir", str(kata.root),
        "--import-mode=importlib",
    ]  # fmt: skip


# Runs pytest with these arguments in this folder within a timeout; may use the scratch folder.
Runner = Callable[[list[str], Path, float, Path], ProcessOutcome]


def cold_run(args: list[str], cwd: Path, timeout: float, scratch: Path) -> ProcessOutcome:
    """A new ``python -m pytest`` process (``kata watch`` uses a warm worker instead)."""
    return run_process([sys.executable, "-m", "pytest", *args], cwd, timeout)
