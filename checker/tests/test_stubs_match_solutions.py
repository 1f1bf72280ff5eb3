"""A stub shows the same public interface as its reference solution.

The learner works from the stub's names, signatures and docstrings, and the
tests call them; if the solution drifted from the stub, the tests would check
something the learner was never asked to build.
"""

import ast
from pathlib import Path

import pytest

from checker.manifest import KataPaths
from checker.stubs import is_untouched_stub, public_functions, raises_not_implemented

KATA = KataPaths.default()
STUBS = sorted(KATA.exercises.glob("module_*/ex*.py"))


def _public_interface(path: Path) -> dict[str, str]:
    """Public functions, classes (with their methods) and constants, as comparable text."""
    interface = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not node.name.startswith("_"):
                interface[node.name] = _signature(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and _is_public_constant(target.id):
                    interface[target.id] = ast.unparse(node.value) if node.value else ""
    return interface


def _is_public_constant(name: str) -> bool:
    return name.isupper() and not name.startswith("_")


def _signature(node) -> str:
    """Name, arguments, return type and docstring; decorators (``@scorer``) may be the answer."""
    if isinstance(node, ast.ClassDef):
        methods = [
            _signature(n)
            for n in node.body
            if isinstance(n, ast.FunctionDef) and (n.name == "__init__" or n.name[0] != "_")
        ]
        fields = [ast.unparse(n) for n in node.body if isinstance(n, ast.AnnAssign)]
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        header = f"class {node.name}({bases})"
        return "\n".join([header, ast.get_docstring(node) or "", *fields, *methods])
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){returns}\n{ast.get_docstring(node) or ''}"


@pytest.mark.parametrize("stub", STUBS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_stub_and_its_solution_have_the_same_public_interface(stub):
    solution = KATA.solutions / stub.parent.name / stub.name
    assert solution.exists(), f"no reference solution {solution}"
    mine, theirs = _public_interface(stub), _public_interface(solution)
    assert mine.keys() == theirs.keys(), (
        f"public names differ: only in the stub {sorted(mine.keys() - theirs.keys())}, "
        f"only in the solution {sorted(theirs.keys() - mine.keys())}"
    )
    different = [name for name in mine if mine[name] != theirs[name]]
    assert not different, "signature, docstring or value differs for: " + ", ".join(
        f"\n--- stub:\n{mine[n]}\n--- solution:\n{theirs[n]}" for n in different
    )


@pytest.mark.parametrize("stub", STUBS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_public_function_of_the_stub_raises_not_implemented(stub):
    """What `kata reset` relies on to tell the shipped stub from a learner's commit."""
    tree = ast.parse(stub.read_text())
    filled_in = [f.name for f in public_functions(tree) if not raises_not_implemented(f)]
    assert is_untouched_stub(stub.read_text()), (
        f"every public function and method of a stub must raise NotImplementedError; "
        f"these do not: {filled_in or 'there are no public functions'}. Give ready-made "
        "helpers a leading underscore."
    )
