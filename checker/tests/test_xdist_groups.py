"""Tests marked with one xdist_group run on one pytest-xdist worker (`--dist loadgroup`).

The kata relies on it: one SparkSession and one MLflow server per run, and a wrong
solution that stops at its first failing test. pytest-xdist marks the group in
the test's id, so a pytest release that changes how ids are stored can silently
break it (pytest 9.2 did).
"""

import os
import subprocess
import sys

from checker.report import read_report
from checker.runners import pytest_flags
from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests

GROUPED = """\
import os

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "none")


@pytest.mark.parametrize("n", range(6))
@pytest.mark.xdist_group("together")
def test_grouped(n):
    folder = os.environ["WORKERS_SEEN"]
    open(os.path.join(folder, f"{n}-{WORKER}"), "w").close()
"""


def test_a_group_runs_on_one_worker_and_keeps_its_plain_test_ids(tmp_path):
    kata = make_kata(tmp_path / "kata", FakeExercise(tests=GROUPED))
    report_file = tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "pytest", "exercises", "-q", *pytest_flags(kata)]
    command += ["-n", "2", "--dist", "loadgroup", "--kata-report", str(report_file)]
    seen = tmp_path / "workers"
    seen.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["WORKERS_SEEN"] = str(seen)

    done = subprocess.run(
        command, cwd=kata.root, capture_output=True, text=True, timeout=120, env=env
    )

    assert done.returncode == 0, done.stdout[-2000:]
    workers = {p.name.split("-", 1)[1] for p in seen.iterdir()}
    assert len(workers) == 1, f"the group ran on several workers: {sorted(workers)}"
    ids = list(read_report(report_file).tests)
    assert ids and all(i.endswith("]") for i in ids), ids  # no "@together" in the ids
