"""The stub as shipped, for ``kata reset``, found in git history.

A learner may commit their work, so the file at HEAD is not always the stub.
The stub as shipped is the newest committed version of the file that is still
untouched: every public function and method in it raises NotImplementedError
(the kata's rule for stubs, checked for every stub by
``checker/tests/test_stubs_match_solutions.py``). A learner's version, even a
half-done one, has at least one of them filled in.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path


class StubNotFound(Exception):
    """No committed version of the file is an untouched stub."""


def public_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level public functions and the public methods of top-level classes."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith(
            "_"
        ):
            found.append(node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += [
                n
                for n in node.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                and not n.name.startswith("_")
            ]
    return found


def raises_not_implemented(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False


def is_untouched_stub(source: str | bytes) -> bool:
    """Every public function and method raises NotImplementedError (and there is one)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    functions = public_functions(tree)
    return bool(functions) and all(raises_not_implemented(f) for f in functions)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except FileNotFoundError as err:
        raise StubNotFound("git is not installed, so the original stub cannot be found.") from err


def shipped_stub(root: Path, relative: str) -> bytes:
    """The newest committed version of ``relative`` (a path under ``root``) that is an
    untouched stub."""
    log = _git(root, "log", "--format=%H", "--", relative)
    if log.returncode != 0:
        reason = log.stderr.decode(errors="replace").strip()
        if "not a git repository" in reason:
            raise StubNotFound(
                f"{root} is not a git checkout. Copy the file from a fresh clone of the kata."
            )
        raise StubNotFound(f"git log failed: {reason}")
    for commit in log.stdout.decode().split():
        shown = _git(root, "show", f"{commit}:{relative}")
        if shown.returncode == 0 and is_untouched_stub(shown.stdout):
            return shown.stdout
    raise StubNotFound(
        f"no committed version of {relative} is an untouched stub (every public function "
        "raising NotImplementedError). Copy it from a fresh clone of the kata."
    )
