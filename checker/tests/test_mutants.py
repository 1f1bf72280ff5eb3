"""Plausible wrong solutions must fail their exercise's tests.

Each file ``checker/tests/mutants/module_NN/<exercise>/<what_is_wrong>.py`` is a
solution with one realistic mistake (a missing span type, an alias left
behind, a 2.x idiom). Running the exercise's tests against it must fail, and
fail on an assertion, not on NotImplementedError or a broken import.

All mutants of an exercise run in one pytest process (``--exercise-file``
given once per mutant), which saves an MLflow import per mutant.
"""

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from checker.paths import EXERCISES, ROOT
from checker.report import read_report

MUTANTS = Path(__file__).parent / "mutants"


def _exercises_with_mutants() -> list[Path]:
    return sorted(p for p in MUTANTS.glob("module_*/ex*") if any(p.glob("*.py")))


def _run_against(test_file: Path, mutants: list[Path], report_file: Path):
    command = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider"]
    command += [f"--exercise-file={m}" for m in mutants]
    command += [f"--kata-report={report_file}"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("folder", _exercises_with_mutants(), ids=lambda p: p.name)
def test_the_exercise_tests_reject_every_plausible_wrong_solution(folder, tmp_path):
    mutants = sorted(folder.glob("*.py"))
    test_file = EXERCISES / folder.parent.name / f"test_{folder.name}.py"
    report_file = tmp_path / "report.jsonl"

    result = _run_against(test_file, mutants, report_file)

    records = read_report(report_file)
    assert any(r["event"] == "finish" for r in records), (
        f"the test run did not finish (exit {result.returncode}):\n{result.stdout[-3000:]}"
    )
    failures = defaultdict(list)
    for record in records:
        if record["event"] == "result" and record["outcome"] == "failed":
            failures[record["exercise_file"]].append(record)
    survivors = [m.stem for m in mutants if not failures[str(m)]]
    assert not survivors, f"these wrong solutions pass every test of {folder.name}: {survivors}"
    not_implemented = [
        r["nodeid"] for rs in failures.values() for r in rs if r.get("not_implemented")
    ]
    assert not not_implemented, (
        f"these failed by NotImplementedError, not by an assertion: {not_implemented}"
    )
