"""A plain ``pytest`` run of an exercise's tests records the result, as ``kata check`` does.

    uv run pytest exercises/module_01/test_ex01_mlflow_setup.py   # all pass: recorded as done

So ``kata``, ``kata diff``, ``kata check`` and ``kata watch`` agree with what the
learner saw, however they ran the tests. Only whole test files run against the
learner's own files count: not ``--solutions`` or ``--exercise-file``, not a run
that picked some tests (``-k``, ``file.py::test``), not the runs of ``kata``
itself (which record their own results).

A pytest plugin object, registered by ``checker.plugin``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from checker.manifest import Exercise, KataPaths, ManifestError, load_manifest
from checker.report import Report
from checker.reporting import phase_result


class Record:
    """Collects each exercise test file's results; writes them to progress.json at the end."""

    kata_parent_only = True  # with --kata-forks, the parent sees every result

    def __init__(self, config: pytest.Config, kata: KataPaths):
        self.config = config
        self.kata = kata
        self.reports: dict[str, Report] = {}  # test file (relative path) -> its results
        self.partial: set[str] = set()  # files of which only some tests ran
        self.recorded: list[tuple[str, str]] = []  # (exercise id, summary)

    @staticmethod
    def wanted(config: pytest.Config) -> bool:
        option = config.option
        return not (
            option.solutions
            or option.exercise_file
            or option.kata_targets
            or option.kata_report
            or option.collectonly
            or hasattr(config, "workerinput")
        )

    def pytest_collection_modifyitems(self, config, items):
        for arg in config.args:
            if "::" in arg:
                self.partial.add(_relative(self.kata, Path(arg.split("::", 1)[0])))

    def pytest_deselected(self, items):
        for item in items:
            self.partial.add(_relative(self.kata, item.path))

    def pytest_runtest_logreport(self, report):
        test_file = report.nodeid.split("::", 1)[0]
        if test_file.startswith("exercises/"):
            phase = phase_result(report)
            self.reports.setdefault(test_file, Report()).add({"event": "result", **asdict(phase)})

    def pytest_sessionfinish(self, session, exitstatus):
        if session.shouldstop or session.shouldfail:
            return  # -x / --maxfail: not every test ran
        try:
            manifest = load_manifest(self.kata)
        except ManifestError:
            return
        by_test_file = {self.kata.relative(self.kata.test_file(e)): e for e in manifest.exercises}
        from checker.progress import Progress

        progress = Progress.load(self.kata)
        for test_file, report in self.reports.items():
            exercise = by_test_file.get(test_file)
            if exercise is None or test_file in self.partial or not _all_complete(report):
                continue
            result = _result(self.kata, exercise, report)
            progress.record(result)
            self.recorded.append((exercise.id, result.summary()))
        if self.recorded:
            progress.save()

    def pytest_terminal_summary(self, terminalreporter):
        for exercise_id, summary in self.recorded:
            terminalreporter.write_line(f"kata: recorded {exercise_id} as {summary}")


def _relative(kata: KataPaths, path: Path) -> str:
    return kata.relative(Path(path).resolve())


def _all_complete(report: Report) -> bool:
    return bool(report.tests) and all(t.complete for t in report.tests.values())


def _result(kata: KataPaths, exercise: Exercise, report: Report):
    from checker.check import interpret
    from checker.progress import exercise_hash, now

    report.finished = True
    report.exitstatus = 1 if report.failures else 0
    result = interpret(exercise, report, report.exitstatus)
    result.hash, result.checked_at = exercise_hash(kata, exercise), now().isoformat()
    result.duration = round(sum(t.duration for t in report.tests.values()), 2)
    return result
