"""A machine-readable record of a pytest run, for ``kata check`` and ``kata verify``.

With ``--kata-report PATH`` every test writes JSON lines as it goes:
``{"event": "start", "nodeid": ...}`` before it runs, one ``"result"`` per
phase (setup, call, teardown) and a final ``{"event": "finish"}``. A run
that dies half-way (``os._exit``, a segfault, a timeout) leaves a file with no
``finish`` line, and its last ``start`` names the test that was running.
"""

import json
from pathlib import Path


def exception_chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_not_implemented(exc: BaseException | None) -> bool:
    return exc is not None and any(isinstance(e, NotImplementedError) for e in exception_chain(exc))


def crash_message(report) -> str:
    """The one-paragraph reason a test failed, without the traceback."""
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


class ReportWriter:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")

    def write(self, **record) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_report(path: Path) -> list[dict]:
    if not Path(path).exists():
        return []
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the process died mid-line
    return records
