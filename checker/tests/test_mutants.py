"""Plausible wrong solutions must fail their exercise's tests.

Each file ``checker/tests/mutants/module_NN/<exercise>/<what_is_wrong>.py`` is a
solution with one realistic mistake (a missing span type, an alias left
behind, a 2.x idiom). Running the exercise's tests against it must fail, and
fail on an assertion, not on NotImplementedError or a broken import.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from checker.paths import EXERCISES, ROOT
from checker.report import read_report

MUTANTS = Path(__file__).parent / "mutants"


def _mutants():
    return sorted(MUTANTS.glob("module_*/ex*/*.py"))


def _test_file(mutant: Path) -> Path:
    return EXERCISES / mutant.parent.parent.name / f"test_{mutant.parent.name}.py"


@pytest.mark.parametrize("mutant", _mutants(), ids=lambda m: f"{m.parent.name}/{m.stem}")
def test_the_exercise_tests_reject_a_plausible_wrong_solution(mutant, tmp_path):
    report_file = tmp_path / "report.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(_test_file(mutant)),
            "-q",
            "-p",
            "no:cacheprovider",
            f"--exercise-file={mutant}",
            f"--kata-report={report_file}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    failures = [
        r for r in read_report(report_file) if r["event"] == "result" and r["outcome"] == "failed"
    ]
    summary = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
    assert result.returncode == 1 and failures, (
        f"expected the tests of {mutant.parent.name} to fail on {mutant.stem}; "
        f"pytest exited {result.returncode}: {summary}"
    )
    wrong_reason = [r["nodeid"] for r in failures if r.get("not_implemented")]
    assert not wrong_reason, (
        f"these failed by NotImplementedError, not an assertion: {wrong_reason}"
    )
