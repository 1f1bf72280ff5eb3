"""The stub as shipped, for ``kata reset``, found in git history.

A learner may commit their work, so the file at HEAD is not always the stub.
The stub as shipped is the newest version of the file in the kata's own
history that is still untouched: every public function and method in it raises
NotImplementedError (the kata's rule for stubs, checked for every stub by
``checker/tests/test_exercise_contract.py``).

The kata's own history is what the clone came from: the commits of its
remote-tracking branches (``origin/main`` ...). A learner's local commit is
not among them, even one that only added an import to the stub and so still
looks untouched. In a checkout without remotes, every commit counts.
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


def _upstream_refs(root: Path) -> list[str]:
    """The remote-tracking branches (the kata as cloned), or [] (then: HEAD's history)."""
    refs = _git(root, "for-each-ref", "--format=%(refname)", "refs/remotes")
    if refs.returncode != 0:
        return []
    return [ref for ref in refs.stdout.decode().split() if not ref.endswith("/HEAD")]


def shipped_stub(root: Path, relative: str) -> bytes:
    """The newest committed version of ``relative`` (a path under ``root``) that is an
    untouched stub."""
    log = _git(root, "log", "--format=%H", *_upstream_refs(root), "--", relative)
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
