"""What a warm check imported on first use, so that the warm worker imports it for the next.

MLflow imports much of itself and of its dependencies only when a feature is first used:
``mlflow.genai.evaluate`` pulls in the Databricks SDK and OpenAI's autologging, ``log_model``
the model flavors. In ``kata watch`` every check runs in a fresh fork of the warm worker, so
each check would pay those imports again (0.5-2 s). Instead, each process of a check writes
down the library modules it imported that the worker had not, and the worker imports them
after the check: the next save of the same exercise finds them loaded.

    learned_imports.watch(path)    # in the forked check, before pytest runs
    learned_imports.write_down()   # at the end of every process of the check
    learned_imports.read(path)     # in the worker: the names, for checker.warm to import

Only libraries are learned (never the kata's own files: the learner's file is imported
afresh for every test), and never a module that a test hid (``sys.modules[name] is None``,
as ``checker.isolation.hide_litellm`` does).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

# Libraries that must not be loaded in a process that forks: gRPC (Spark Connect's client)
# keeps state that a forked child cannot use. A check imports them itself.
NOT_BEFORE_A_FORK = ("grpc", "pyspark.sql.connect")

_watch: dict[str, object] = {}  # "path": where to write, "before": the modules already loaded


def watch(path: Path, root: Path) -> None:
    """Start watching this process's imports (and its forks'): call in the forked check."""
    _watch.update(path=str(path), before=frozenset(sys.modules), root=str(root.resolve()))


def write_down() -> None:
    """Append the library modules imported since ``watch`` to its file (one JSON line per
    process; a no-op outside a watched check)."""
    path = _watch.get("path")
    if not isinstance(path, str):
        return
    before = _watch["before"]
    root = str(_watch["root"])
    names = [
        name
        for name, module in list(sys.modules.items())
        if name not in before and _is_a_library(name, module, root)  # type: ignore[operator]
    ]
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (json.dumps(sorted(names)) + "\n").encode())
        finally:
            os.close(fd)


def read(path: Path) -> list[str]:
    """The module names written to ``path`` by every process of a check, then delete it."""
    names: set[str] = set()
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                names.update(json.loads(line))
        path.unlink()
    return sorted(name for name in names if name not in sys.modules)


def _is_a_library(name: str, module: object, root: str) -> bool:
    if module is None or name == "__main__":
        return False
    if any(name == other or name.startswith(other + ".") for other in NOT_BEFORE_A_FORK):
        return False
    file = getattr(module, "__file__", None)
    if not file:
        return True  # built into Python
    file = os.path.abspath(file)
    installed = any(file.startswith(os.path.abspath(p) + os.sep) for p in _install_folders())
    return installed or not file.startswith(root + os.sep)  # the kata's own: never


def _install_folders() -> set[str]:
    """Where Python and the installed libraries live (the kata's .venv is inside it)."""
    return {sys.prefix, sys.base_prefix, sys.exec_prefix}
