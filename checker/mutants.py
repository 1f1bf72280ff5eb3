"""Plausible wrong solutions ("mutants") that an exercise's tests must reject.

``checker/tests/mutants/module_NN/<exercise>.toml`` lists wrong solutions of one
exercise, each the reference solution with a few edits (a missing span type,
an alias left behind, a 2.x idiom):

    [[mutants]]
    name = "uses_stages"
    caught_by = "test_promotion_moves_the_champion_alias"   # optional: run this test first
    why = "keeps the MLflow 2 registry stages instead of an alias"
    [[mutants.edits]]
    replace = '''...a unique piece of the solution...'''
    with = '''...what the wrong solution has instead...'''

``build_mutants`` writes them as files. ``kata verify`` runs every exercise test
against each of them (the plugin's ``--kata-targets``); a mutant is rejected
when at least one test fails on it, and none fails by NotImplementedError. A
mutant stops at its first failing test, and ``caught_by`` names the test to run
first: then a wrong solution usually costs one test, not the whole suite
(``kata verify --update-caught-by`` writes the names it found).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from checker.manifest import KataPaths
from checker.report import Report, TestOutcome


class MutantError(Exception):
    """A mutant file that cannot be built (bad TOML, or an edit that no longer matches)."""


@dataclass(frozen=True)
class Mutant:
    name: str
    why: str
    path: Path  # the built file
    caught_by: str | None = None  # the test to run first


def mutants_file(kata: KataPaths, module: str, stem: str) -> Path:
    return kata.root / "checker" / "tests" / "mutants" / module / f"{stem}.toml"


def apply_edits(source: str, edits: list[dict], label: str) -> str:
    """The solution with each edit applied in turn; each must match exactly once."""
    for number, edit in enumerate(edits, 1):
        found = source.count(edit["replace"])
        if found != 1:
            raise MutantError(
                f"{label}, edit {number}: its 'replace' text occurs {found} times in the "
                "solution (it must occur once); update the mutant to the current solution"
            )
        source = source.replace(edit["replace"], edit["with"])
    return source


def build_mutants(kata: KataPaths, module: str, stem: str, folder: Path) -> list[Mutant]:
    """Write the mutants of exercise ``module/stem`` into ``folder`` ([] if it has none)."""
    spec = mutants_file(kata, module, stem)
    if not spec.is_file():
        return []
    try:
        entries = tomllib.loads(spec.read_text(encoding="utf-8"))["mutants"]
    except (tomllib.TOMLDecodeError, KeyError) as err:
        raise MutantError(f"{kata.relative(spec)}: {err}") from err
    solution = kata.solutions / module / f"{stem}.py"
    source = solution.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    built = []
    for entry in entries:
        path = folder / f"{stem}__{entry['name']}.py"
        path.write_text(apply_edits(source, entry["edits"], f"{stem}/{entry['name']}"))
        why, caught_by = entry.get("why", "").strip(), entry.get("caught_by")
        built.append(Mutant(name=entry["name"], why=why, path=path, caught_by=caught_by))
    return built


def mutant_names(kata: KataPaths, module: str, stem: str) -> list[str]:
    """The names of the mutants of exercise ``module/stem``, as its TOML lists them."""
    spec = mutants_file(kata, module, stem)
    if not spec.is_file():
        return []
    return [entry["name"] for entry in tomllib.loads(spec.read_text(encoding="utf-8"))["mutants"]]


def caught_by_names(kata: KataPaths, module: str, stem: str) -> dict[str, str]:
    """Each mutant's ``caught_by`` test, as its TOML records it (mutants without one left out)."""
    spec = mutants_file(kata, module, stem)
    if not spec.is_file():
        return {}
    entries = tomllib.loads(spec.read_text(encoding="utf-8"))["mutants"]
    return {entry["name"]: entry["caught_by"] for entry in entries if entry.get("caught_by")}


def rejection_problems(report: Report, test_file: str, expected: list[str]) -> dict[str, str]:
    """Why each mutant of ``test_file`` (a path as in the test ids) was not rejected.

    A mutant is rejected when at least one of its tests failed and none failed by
    NotImplementedError (that would mean a stub slipped in, not a wrong answer).
    Returns {} when every one of ``expected`` was rejected.
    """
    by_mutant: dict[str, list[TestOutcome]] = {name: [] for name in expected}
    for test in report.tests.values():
        if test.nodeid.split("::", 1)[0] == test_file and (test.target or "").startswith("mutant:"):
            by_mutant.setdefault((test.target or "").removeprefix("mutant:"), []).append(test)
    problems = {}
    for name, tests in by_mutant.items():
        failures = [t for t in tests if t.failure is not None]
        not_implemented = [t.name for t in failures if t.failure and t.failure.not_implemented]
        if not tests:
            problems[name] = "none of its tests ran"
        elif not failures:
            problems[name] = "it passes every test: the tests do not catch this mistake"
        elif not_implemented:
            problems[name] = (
                f"it failed by NotImplementedError, not on an assertion: {not_implemented}"
            )
    return problems


def caught_by_of(report: Report, test_file: str) -> dict[str, str]:
    """The first test (by name) that failed on an assertion for each mutant of ``test_file``."""
    found: dict[str, str] = {}
    for test in report.tests.values():
        target = test.target or ""
        if test.nodeid.split("::", 1)[0] != test_file or not target.startswith("mutant:"):
            continue
        name = target.removeprefix("mutant:")
        if test.failure is not None and not test.failure.not_implemented and name not in found:
            found[name] = test.name.split("[", 1)[0]
    return found


def write_caught_by(kata: KataPaths, module: str, stem: str, caught: dict[str, str]) -> int:
    """Set each mutant's ``caught_by`` in its TOML (text edits keep the file as written);
    returns how many changed."""
    spec = mutants_file(kata, module, stem)
    lines = spec.read_text(encoding="utf-8").splitlines(keepends=True)
    changed, out = 0, []
    current: str | None = None
    for line in lines:
        if line.startswith("caught_by = ") and current is not None and current in caught:
            new = f'caught_by = "{caught[current]}"\n'
            changed += new != line
            out.append(new)
            current = None  # done with this mutant
            continue
        out.append(line)
        if line.startswith("name = "):
            current = tomllib.loads(line)["name"]
            if current in caught and not _has_caught_by(lines, len(out) - 1):
                out.append(f'caught_by = "{caught[current]}"\n')
                changed += 1
                current = None
    spec.write_text("".join(out), encoding="utf-8")
    return changed


def _has_caught_by(lines: list[str], name_index: int) -> bool:
    """Whether the mutant whose ``name`` is at ``name_index`` already has a caught_by."""
    for line in lines[name_index + 1 :]:
        if line.startswith(("[[mutants]]", "[[mutants.edits]]")):
            return False
        if line.startswith("caught_by = "):
            return True
    return False
