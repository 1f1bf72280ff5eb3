"""The ``--kata-report PATH`` option: JSON lines about a pytest run, for ``kata``.

The format and its reader are in ``checker.report``; these are the pytest hooks
that write it. Under pytest-xdist only the controller writes: the workers send
each test's details along in the report's ``user_properties``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from checker import report as kata_report
from checker.targets import Targets

# pytest-xdist's --dist loadgroup appends "@<group>" to the ids of grouped tests.
_XDIST_GROUP = re.compile(r"@[^\[\]@]+$")


def plain_nodeid(nodeid: str) -> str:
    """The test's id without the "@group" that pytest-xdist may have appended."""
    return _XDIST_GROUP.sub("", nodeid)


def phase_result(report) -> kata_report.PhaseResult:
    """One phase of one test, from pytest's report and the details ``TestDetails`` added."""
    details = dict(report.user_properties).get("kata", {})
    return kata_report.PhaseResult(
        nodeid=plain_nodeid(report.nodeid),
        when=report.when,
        outcome=report.outcome,
        duration=round(report.duration, 3),
        message=kata_report.crash_message(report),
        **details,
    )


class TestDetails:
    """Adds what ``kata`` needs to know about each test to its report, where the test
    runs (an xdist worker or a forked child included): whether it failed by
    NotImplementedError, the exception's class, the learner's line, the file checked."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self, targets: Targets):
        self.targets = targets

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        rep = yield
        exc = call.excinfo.value if call.excinfo else None
        exercise_file = self.targets.exercise_file_of(item)
        # user_properties travel from xdist workers to the controller, which writes.
        rep.user_properties.append(
            (
                "kata",
                {
                    "not_implemented": kata_report.is_not_implemented(exc),
                    "exception": type(exc).__name__ if exc else None,
                    "where": kata_report.learner_frame(call.excinfo, exercise_file),
                    "exercise_file": str(exercise_file) if exercise_file else None,
                    "target": self.targets.kind_of(exercise_file),
                },
            )
        )
        return rep


class Reporting:
    """Writes the JSON-lines report of one pytest run."""

    def __init__(self, config):
        path = config.getoption("kata_report")
        is_worker = hasattr(config, "workerinput")
        self.writer = kata_report.ReportWriter(Path(path)) if path and not is_worker else None

    kata_parent_only = True  # with --kata-forks, only the parent writes (checker.parallel)

    def pytest_runtest_logstart(self, nodeid, location):
        if self.writer:
            self.writer.write(
                event="start", nodeid=plain_nodeid(nodeid), time=round(time.time(), 3)
            )

    def pytest_runtest_logreport(self, report):
        if self.writer is not None:
            self.writer.write_result(phase_result(report))

    def pytest_collectreport(self, report):
        if self.writer is not None and report.failed:
            self.writer.write(
                event="collect_error",
                nodeid=report.nodeid,
                message=str(report.longrepr).strip()[-2000:],
            )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if self.writer:
            self.writer.write(event="finish", exitstatus=int(exitstatus))
            self.writer.close()
            self.writer = None
