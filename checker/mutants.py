"""Plausible wrong solutions ("mutants") that an exercise's tests must reject.

``checker/tests/mutants/module_NN/<exercise>.toml`` lists wrong solutions of one
exercise, each the reference solution with a few edits (a missing span type,
an alias left behind, a 2.x idiom):

    [[mutants]]
    name = "uses_stages"
    why = "keeps the MLflow 2 registry stages instead of an alias"
    [[mutants.edits]]
    replace = '''...a unique piece of the solution...'''
    with = '''...what the wrong solution has instead...'''

``build_mutants`` writes them as files. ``kata verify`` runs every exercise test
against each of them (the plugin's ``--kata-targets``); a mutant is rejected
when at least one test fails on it, and none fails by NotImplementedError.
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
        built.append(Mutant(name=entry["name"], why=entry.get("why", "").strip(), path=path))
    return built


def mutant_names(kata: KataPaths, module: str, stem: str) -> list[str]:
    """The names of the mutants of exercise ``module/stem``, as its TOML lists them."""
    spec = mutants_file(kata, module, stem)
    if not spec.is_file():
        return []
    return [entry["name"] for entry in tomllib.loads(spec.read_text(encoding="utf-8"))["mutants"]]


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
