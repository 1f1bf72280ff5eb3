"""The README's map and kit table match the code (the lessons: test_exercise_contract.py)."""

import ast
import re
from pathlib import Path

import pytest

from checker.manifest import DEFAULT_ROOT as ROOT
from checker.manifest import load_manifest

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = re.search(r"^#{2,4} ", text[start + len(heading) :], flags=re.M)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


def _map() -> str:
    block = _section(README, "### Where everything is")
    return block[block.index("```") : block.rindex("```")]


def _kit_table() -> str:
    return _section(README, "#### The kit")


def _code_files(folder: str) -> list[Path]:
    return sorted(
        p
        for p in (ROOT / folder).glob("*.py")
        if p.name != "__init__.py" or folder in ("examples",)
    )


@pytest.mark.parametrize(
    "path",
    [p for folder in ("checker", "benchmarks", "examples") for p in _code_files(folder)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_readme_map_names_every_file(path):
    assert path.name in _map(), (
        f"{path.relative_to(ROOT)} is not in the README's map ('Where everything is'): "
        "add a line saying what it is for"
    )


def test_the_readme_map_names_every_kata_command():
    commands = sorted(p.stem for p in (ROOT / "checker" / "commands").glob("*.py"))
    line = next(line for line in _map().splitlines() if line.strip().startswith("commands/"))
    text = line + _map().split(line, 1)[1].split("\n  manifest.py", 1)[0]
    missing = [c for c in commands if c != "__init__" and c not in text]
    assert not missing, f"the README's map does not name the command files {missing}"


def test_the_readme_map_names_no_file_that_is_gone():
    named = set(re.findall(r"\b([a-z_]+\.py)\b", _map()))
    existing = {p.name for p in ROOT.rglob("*.py") if ".venv" not in p.parts}
    assert named <= existing, f"the README's map names files that do not exist: {named - existing}"


def _public_names(path: Path) -> list[str]:
    """Functions, classes and pytest fixtures a kit module offers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            if node.name.startswith("pytest_"):
                continue  # a pytest hook, not something a test uses
            names.append(node.name)
    return names


KIT_MODULES = sorted(p for p in (ROOT / "fixtures").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", KIT_MODULES, ids=lambda p: p.name)
def test_the_kit_table_names_every_function_class_and_fixture(path):
    table = _kit_table()
    missing = [n for n in _public_names(path) if not re.search(rf"`[^`]*\b{n}\b[^`]*`", table)]
    assert not missing, (
        f"the README's kit table does not name {missing} from fixtures/{path.name}: "
        "add them to its row (or make them private with a leading underscore)"
    )


@pytest.mark.parametrize("path", KIT_MODULES, ids=lambda p: p.name)
def test_every_kit_module_has_its_own_tests(path):
    if path.name == "pytest_fixtures.py":
        return  # each fixture is tested beside the module it serves
    tests = ROOT / "fixtures" / "tests" / f"test_{path.stem}.py"
    shared = {"prices.py": "test_env_and_prices.py"}
    if path.name in shared:
        tests = tests.with_name(shared[path.name])
    assert tests.is_file(), f"fixtures/{path.name} has no tests: write {tests.relative_to(ROOT)}"


MANIFEST = load_manifest()


def test_the_readme_lists_every_module_of_the_manifest():
    rows = re.findall(r"^\| (\d\d) \| ", README, flags=re.M)
    assert [f"module_{r}" for r in rows] == [m.id for m in MANIFEST.modules]
