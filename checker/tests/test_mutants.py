"""Plausible wrong solutions must fail their exercise's tests.

Each ``checker/tests/mutants/module_NN/<exercise>.toml`` lists wrong solutions of
one exercise as edits of its reference solution (see ``checker/mutants.py``).
``kata verify`` checks them all in its one test run; these tests check one
exercise at a time, the same way (``--kata-targets mutants``), so
``uv run pytest checker/tests/test_mutants.py -k module_03`` checks a module's.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from checker.manifest import KataPaths
from checker.mutants import (
    MutantError,
    apply_edits,
    build_mutants,
    mutant_names,
    rejection_problems,
)
from checker.report import Report, read_report
from checker.runners import pytest_flags

KATA = KataPaths.default()
MUTANTS = Path(__file__).parent / "mutants"


def _mutant_files() -> list[Path]:
    return sorted(MUTANTS.glob("module_*/ex*.toml"))


def test_a_mutant_edit_that_no_longer_matches_the_solution_is_reported():
    with pytest.raises(MutantError, match="occurs 0 times"):
        apply_edits("a = 1\n", [{"replace": "b = 2\n", "with": "b = 3\n"}], "x/y")


def test_every_mutant_builds_and_differs_from_its_solution(tmp_path):
    for spec in _mutant_files():
        module, stem = spec.parent.name, spec.stem
        solution = (KATA.solutions / module / f"{stem}.py").read_text()
        for mutant in build_mutants(KATA, module, stem, tmp_path / module):
            assert mutant.path.read_text() != solution, f"{module}/{stem}/{mutant.name}"
            assert mutant.why, f"{module}/{stem}/{mutant.name} does not say why it is wrong"


def _report(*tests):
    """A report of (test name, mutant, outcome, NotImplementedError?) rows."""
    report = Report()
    for name, mutant, outcome, not_implemented in tests:
        nodeid = f"exercises/module_01/test_ex01_x.py::{name}[mutant-{mutant}]"
        report.add(
            {"event": "result", "nodeid": nodeid, "when": "call", "outcome": outcome,
             "not_implemented": not_implemented, "target": f"mutant:{mutant}"}
        )  # fmt: skip
    return report


def test_a_mutant_is_rejected_by_one_failed_assertion_and_nothing_less():
    report = _report(
        ("test_a", "caught", "failed", False),
        ("test_b", "caught", "skipped", False),
        ("test_a", "missed", "passed", False),
        ("test_a", "stubbed", "failed", True),
    )
    problems = rejection_problems(
        report, "exercises/module_01/test_ex01_x.py", ["caught", "missed", "stubbed", "unrun"]
    )
    assert sorted(problems) == ["missed", "stubbed", "unrun"]
    assert "passes every test" in problems["missed"]
    assert "NotImplementedError" in problems["stubbed"]


@pytest.mark.parametrize("spec", _mutant_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_exercise_tests_reject_every_plausible_wrong_solution(spec, tmp_path):
    module, stem = spec.parent.name, spec.stem
    test_file = f"exercises/{module}/test_{stem}.py"
    report_file = tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "pytest", test_file, "-q", *pytest_flags(KATA)]
    command += ["-p", "no:xdist", "--kata-targets=mutants", f"--kata-report={report_file}"]

    result = subprocess.run(command, cwd=KATA.root, capture_output=True, text=True, timeout=900)

    report = read_report(report_file)
    assert report.finished, (
        f"the test run did not finish (exit {result.returncode}):\n{result.stdout[-3000:]}"
    )
    problems = rejection_problems(report, test_file, mutant_names(KATA, module, stem))
    assert not problems, f"wrong solutions of {module}/{stem} that are not rejected: {problems}"
