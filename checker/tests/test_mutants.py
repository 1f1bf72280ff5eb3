"""Plausible wrong solutions must fail their exercise's tests.

``checker/tests/mutants/module_NN/<exercise>.toml`` lists wrong solutions of one
exercise, each the reference solution with a few edits (a missing span type,
an alias left behind, a 2.x idiom):

    [[mutants]]
    name = "uses_stages"
    why = "keeps the MLflow 2 registry stages instead of an alias"
    [[mutants.edits]]
    replace = '''...a unique piece of the solution...'''
    with = '''...what the wrong solution has instead...'''

Running the exercise's tests against each one must fail, on an assertion, not
on NotImplementedError or a broken import. All mutants of an exercise run in
one pytest process (``--exercise-file`` once per mutant), which saves an
MLflow import per mutant, and each mutant stops at its first failing test
(``--first-failure-per-file``): one failure is all this check needs.
"""

import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from checker.manifest import KataPaths
from checker.report import read_report

KATA = KataPaths.default()
MUTANTS = Path(__file__).parent / "mutants"


def _mutant_files() -> list[Path]:
    return sorted(MUTANTS.glob("module_*/ex*.toml"))


def apply_edits(source: str, edits: list[dict], label: str) -> str:
    """The solution with each edit applied in turn; each must match exactly once."""
    for number, edit in enumerate(edits, 1):
        found = source.count(edit["replace"])
        if found != 1:
            pytest.fail(
                f"{label}, edit {number}: its 'replace' text occurs {found} times in the "
                "solution (it must occur once); update the mutant to the current solution"
            )
        source = source.replace(edit["replace"], edit["with"])
    return source


def write_mutants(spec: Path, folder: Path) -> dict[Path, dict]:
    """Build the mutants of ``spec`` as files in ``folder``; return file -> entry."""
    solution = KATA.solutions / spec.parent.name / f"{spec.stem}.py"
    folder.mkdir()
    built = {}
    for mutant in tomllib.loads(spec.read_text())["mutants"]:
        path = folder / f"{mutant['name']}.py"
        label = f"{spec.stem}/{mutant['name']}"
        path.write_text(apply_edits(solution.read_text(), mutant["edits"], label))
        built[path] = mutant
    return built


def test_a_mutant_edit_that_no_longer_matches_the_solution_is_reported():
    with pytest.raises(pytest.fail.Exception, match="occurs 0 times"):
        apply_edits("a = 1\n", [{"replace": "b = 2\n", "with": "b = 3\n"}], "x/y")


@pytest.mark.parametrize("spec", _mutant_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_exercise_tests_reject_every_plausible_wrong_solution(spec, tmp_path):
    mutants = write_mutants(spec, tmp_path / spec.stem)
    test_file = KATA.exercises / spec.parent.name / f"test_{spec.stem}.py"
    report_file = tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider"]
    command += [f"--exercise-file={m}" for m in mutants] + ["--first-failure-per-file"]
    command += [f"--kata-report={report_file}"]

    result = subprocess.run(command, cwd=KATA.root, capture_output=True, text=True, timeout=600)

    report = read_report(report_file)
    assert report.finished, (
        f"the test run did not finish (exit {result.returncode}):\n{result.stdout[-3000:]}"
    )
    failures = defaultdict(list)
    for test in report.failures:
        failures[test.failure.exercise_file].append(test.failure)
    survivors = [f"{m['name']} ({m['why']})" for p, m in mutants.items() if not failures[str(p)]]
    assert not survivors, f"these wrong solutions pass every test of {spec.stem}: {survivors}"
    not_implemented = [f.nodeid for fs in failures.values() for f in fs if f.not_implemented]
    assert not not_implemented, (
        f"these failed by NotImplementedError, not by an assertion: {not_implemented}"
    )
