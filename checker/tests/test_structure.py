"""The shape of the code: the plugin and the `kata` command never import the test kit,
and no module of checker/ or fixtures/ imports itself back through another."""

import ast
from pathlib import Path

import pytest

from checker.manifest import DEFAULT_ROOT as ROOT

PACKAGES = ("checker", "fixtures", "examples")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "tests" not in path.relative_to(ROOT).parts:
                found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _imports(path: Path) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in SOURCES)
    return found


GRAPH = {name: _imports(path) for name, path in SOURCES.items()}


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.startswith("checker")))
def test_the_plugin_and_the_command_import_no_kit_module(module):
    kit = sorted(m for m in GRAPH[module] if m.split(".")[0] == "fixtures")
    assert not kit, (
        f"{module} imports the test kit ({', '.join(kit)}): checker/ is the plugin and the "
        "`kata` command; the kit may use them, never the other way round"
    )


def test_no_module_imports_itself_back_through_others():
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in GRAPH.get(module, ()):
            if imported == path[0]:
                cycles.append(" -> ".join([*path, imported]))
            elif imported not in path and len(path) < 8:
                visit(imported, [*path, imported])

    for module in GRAPH:
        visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))
