"""A machine-readable record of a pytest run, for ``kata check``, ``kata verify`` and
the checker's own tests.

With ``--kata-report PATH`` the plugin writes JSON lines as the run goes:
``{"event": "start", "nodeid": ..., "time": ...}`` as each test starts (``time``:
seconds since the epoch), one ``"result"`` line per
phase (setup, call, teardown; the fields of ``PhaseResult``), a
``"collect_error"`` line per file that could not be collected, and a final
``{"event": "finish", "exitstatus": N}``. A run that dies half-way
(``os._exit``, a segfault, a timeout) leaves a file with no ``finish`` line;
the test that was running is the last one started that has not finished.

``read_report`` turns the lines back into one ``Report``: each test's outcome
and first failure, whether the run finished, what could not be collected.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class PhaseResult:
    """One phase (setup, call or teardown) of one test, as the plugin reports it."""

    nodeid: str
    when: str
    outcome: str  # passed, failed or skipped
    duration: float = 0.0
    message: str = ""  # why it failed or was skipped, without the traceback
    not_implemented: bool = False  # a NotImplementedError anywhere in the exception chain
    exception: str | None = None  # the exception's class name
    where: str | None = None  # "ex01_x.py:12 in func": the deepest line in the exercise file
    exercise_file: str | None = None  # the file the test checked
    target: str | None = None  # under --kata-targets: "solution", "stub" or "mutant:<name>"

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> PhaseResult:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})


@dataclass
class TestOutcome:
    """One test over all its phases."""

    __test__ = False  # not a test class, whatever its name says

    nodeid: str
    outcome: str = "passed"  # passed, failed or skipped
    failure: PhaseResult | None = None  # the first phase that failed
    skip: PhaseResult | None = None  # the phase that skipped it
    complete: bool = False  # its teardown was reported
    duration: float = 0.0  # seconds, over all its phases
    target: str | None = None  # under --kata-targets: "solution", "stub" or "mutant:<name>"

    @property
    def name(self) -> str:
        """``test_logs_params`` of ``exercises/module_01/test_ex01_x.py::test_logs_params``."""
        return test_name(self.nodeid)


@dataclass
class Report:
    """Everything a ``--kata-report`` file says about one run."""

    tests: dict[str, TestOutcome] = field(default_factory=dict)  # in run order
    finished: bool = False
    exitstatus: int | None = None
    collect_errors: list[tuple[str, str]] = field(default_factory=list)  # (nodeid, message)
    started: dict[str, float] = field(default_factory=dict)  # nodeid -> when it started

    @property
    def last_started(self) -> str | None:
        """The test that was running last: the newest one started and not finished
        (several run at once with --kata-forks), else the newest one started."""
        running = [n for n in self.started if not (n in self.tests and self.tests[n].complete)]
        candidates = running or list(self.started)
        return candidates[-1] if candidates else None

    def running_for(self, now: float) -> float | None:
        """Seconds the test still running (``last_started``) has been running, if known."""
        nodeid = self.last_started
        started = self.started.get(nodeid) if nodeid else None
        return now - started if started else None

    @property
    def passed(self) -> int:
        return sum(t.outcome == "passed" for t in self.tests.values())

    @property
    def failures(self) -> list[TestOutcome]:
        return [t for t in self.tests.values() if t.failure is not None]

    def add(self, record: dict[str, Any]) -> None:
        """Take in one JSON line of the report."""
        event = record.get("event")
        if event == "start":
            nodeid = record.get("nodeid") or ""
            self.started.pop(nodeid, None)  # a test restarted moves to the end
            self.started[nodeid] = float(record.get("time") or 0.0)
        elif event == "collect_error":
            self.collect_errors.append((record.get("nodeid", ""), record.get("message", "")))
        elif event == "finish":
            self.finished, self.exitstatus = True, record.get("exitstatus")
        elif event == "result":
            phase = PhaseResult.from_json(record)
            new = TestOutcome(phase.nodeid, target=phase.target)
            test = self.tests.setdefault(phase.nodeid, new)
            if phase.outcome == "failed" and test.failure is None:
                test.outcome, test.failure = "failed", phase
            elif phase.outcome == "skipped" and test.failure is None:
                test.outcome, test.skip = "skipped", phase
            test.duration += phase.duration
            if phase.when == "teardown":
                test.complete = True


def read_report(path: Path) -> Report:
    """The report at ``path`` (empty when the run never started)."""
    report = Report()
    if not Path(path).exists():
        return report
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            report.add(json.loads(line))
        except json.JSONDecodeError:
            break  # the process died mid-line
    return report


class ReportWriter:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")

    def write(self, **record: Any) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def write_result(self, phase: PhaseResult) -> None:
        self.write(event="result", **asdict(phase))

    def close(self) -> None:
        self._file.close()


# --- what the plugin puts in a record ------------------------------------------------


def exception_chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_not_implemented(exc: BaseException | None) -> bool:
    return any(isinstance(e, NotImplementedError) for e in exception_chain(exc))


def crash_message(report) -> str:
    """The one-paragraph reason a pytest test report failed, without the traceback."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    if isinstance(longrepr, tuple):  # skipped: (path, line, reason)
        return str(longrepr[2])
    return str(longrepr).strip().splitlines()[-1] if str(longrepr).strip() else ""


def learner_frame(excinfo, exercise_file: Path | None) -> str | None:
    """``file:line in function`` of the deepest frame in the exercise file."""
    if excinfo is None or exercise_file is None:
        return None
    found = None
    for entry in excinfo.traceback:
        if Path(str(entry.path)) == exercise_file:
            found = f"{exercise_file.name}:{entry.lineno + 1} in {entry.name}"
    return found


# --- what a learner is shown ----------------------------------------------------------


def test_name(nodeid: str | None) -> str:
    """``test_logs_params`` of ``exercises/module_01/test_ex01_x.py::test_logs_params``."""
    return (nodeid or "").split("::", 1)[-1] or "?"


test_name.__test__ = False  # type: ignore[attr-defined]

_PYTEST_NOISE = re.compile(r"^\s*(\+\s+where |Use -v to get|Omitting \d+ identical|$)")


def condense(message: str, lines: int = 12) -> str:
    """A failure message as the learner needs it, at most ``lines`` long.

    A test's own assertion message is kept and pytest's comparison after it
    dropped; a bare ``assert`` keeps pytest's comparison without its ``where``
    reprs and its -v advice.
    """
    message = message.strip().removeprefix("Failed: ")
    kept = message.splitlines()
    if kept and kept[0].startswith("AssertionError: ") and "AssertionError: assert " not in kept[0]:
        end = next((i for i, line in enumerate(kept) if line.startswith("assert ")), len(kept))
        kept = kept[:end]
    kept = kept[:1] + [line for line in kept[1:] if not _PYTEST_NOISE.match(line)]
    if len(kept) > lines:
        kept = kept[:lines] + [f"... ({len(kept) - lines} more lines)"]
    return "\n".join(kept)
