"""The ``--kata-report PATH`` option: JSON lines about a pytest run, for ``kata``.

The format and its reader are in ``checker.report``; these are the pytest hooks
that write it. Under pytest-xdist only the controller writes: the workers send
each test's details along in the report's ``user_properties``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker import report as kata_report
from checker.targets import Targets


class Reporting:
    """Writes the JSON-lines report of one pytest run."""

    def __init__(self, config, targets: Targets):
        self.targets = targets
        path = config.getoption("kata_report")
        is_worker = hasattr(config, "workerinput")
        self.writer = kata_report.ReportWriter(Path(path)) if path and not is_worker else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if self.writer:
            self.writer.write(event="start", nodeid=item.nodeid)

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

    def pytest_runtest_logreport(self, report):
        if self.writer is None:
            return
        details = dict(report.user_properties).get("kata", {})
        self.writer.write_result(
            kata_report.PhaseResult(
                nodeid=report.nodeid,
                when=report.when,
                outcome=report.outcome,
                duration=round(report.duration, 3),
                message=kata_report.crash_message(report),
                **details,
            )
        )

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
