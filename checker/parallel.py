"""``--kata-forks N``: run the tests of one check in N forked processes at once.

``kata check`` and ``kata watch`` check one exercise at a time, and its tests
would otherwise run one after the other on one core. With ``--kata-forks 2``
pytest collects the tests as usual, then forks two children after collection;
each runs its share of the tests (with its own session fixtures and its own
temp folder) and sends every result back through a pipe. The parent hands
those results to pytest's own hooks, as if it had run the tests itself, so the
terminal summary, the ``--kata-report`` file and the exit status are those of
a serial run; only the order in which results arrive may differ.

Each test still gets its own fresh store and a fresh import of the learner's
file: forking changes where a test runs, not how. A child that crashes (a
segfault, ``os._exit``) takes the whole run down the same way, naming the test
it was running, exactly as a serial run would. Tests that share an
``xdist_group`` (the MLflow server) stay in one child, so that one server serves
them, unless ``kata watch`` already runs that service for every check
(``RUNNING_ELSEWHERE``): then each child reaches it on its own.

A pytest plugin object, registered by ``checker.plugin``; POSIX only.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# A plugin that only the parent may run (it writes files or the terminal): a child
# unregisters every plugin object with this attribute set, and the terminal reporter.
PARENT_ONLY = "kata_parent_only"


def can_fork() -> bool:
    return hasattr(os, "fork")


# xdist groups named after a service, and the variable through which ``kata watch``
# hands a running one to a check (checker.services.WatchServices).
RUNNING_ELSEWHERE = {"mlflow_server": "KATA_MLFLOW_SERVER"}


def _group(item) -> str | None:
    """The ``xdist_group`` that must stay in one share, if any."""
    marker = item.get_closest_marker("xdist_group")
    group = (marker.args[0] if marker.args else marker.kwargs.get("name")) if marker else None
    if group in RUNNING_ELSEWHERE and os.environ.get(RUNNING_ELSEWHERE[group]):
        return None  # every child can reach the running service
    return group


def split(items: list, forks: int) -> list[list]:
    """``forks`` shares of ``items``: round robin in order (the first tests start at
    once in every child), with each ``xdist_group`` kept whole in one share."""
    shares: list[list] = [[] for _ in range(max(1, min(forks, len(items))))]
    groups: dict[str, int] = {}
    turn = 0
    for item in items:
        group = _group(item)
        if group is not None:
            if group not in groups:
                groups[group] = min(range(len(shares)), key=lambda n: len(shares[n]))
            shares[groups[group]].append(item)
            continue
        shares[turn % len(shares)].append(item)
        turn += 1
    return [share for share in shares if share]


@dataclass
class _Child:
    pid: int
    fd: int
    buffer: bytes = b""
    running: str | None = None  # the test it has started and not finished
    done: bool = False
    locations: dict[str, Any] = field(default_factory=dict)


class ForkedRun:
    """Runs the session's tests in forked children and relays their results."""

    def __init__(self, config: pytest.Config, forks: int):
        self.config = config
        self.forks = forks

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session):
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None  # pytest's own loop reports the collection errors
        if session.config.option.collectonly:
            return None
        shares = split(list(session.items), self.forks)
        if len(shares) < 2:
            return None
        base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        started = [self._start(share, base / f"fork{n}") for n, share in enumerate(shares)]
        self._relay(session, started)
        return True

    # --- in a child ---------------------------------------------------------------------

    def _start(self, share: list, basetemp: Path) -> _Child:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            self._run_share(share, basetemp, write)  # never returns
        os.close(write)
        return _Child(pid=pid, fd=read, locations={i.nodeid: i.location for i in share})

    def _run_share(self, share: list, basetemp: Path, fd: int) -> None:
        code = 0
        try:
            config = self.config
            manager = config.pluginmanager
            for plugin in list(manager.get_plugins()):
                if getattr(plugin, PARENT_ONLY, False):
                    manager.unregister(plugin)
            terminal = manager.get_plugin("terminalreporter")
            if terminal is not None:
                manager.unregister(terminal)
            basetemp.mkdir(parents=True, exist_ok=True)
            config._tmp_path_factory._basetemp = basetemp  # type: ignore[attr-defined]
            pipe = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
            manager.register(_Forward(config, pipe), "kata-forward")
            for number, item in enumerate(share):
                following = share[number + 1] if number + 1 < len(share) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
            pipe.write(json.dumps({"event": "done"}) + "\n")
            pipe.flush()
        except BaseException:  # noqa: BLE001 - the parent sees the missing "done"
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)

    # --- in the parent ------------------------------------------------------------------

    def _relay(self, session: pytest.Session, children: list[_Child]) -> None:
        hook = session.config.hook
        selector = selectors.DefaultSelector()
        for child in children:
            selector.register(child.fd, selectors.EVENT_READ, child)
        open_pipes = len(children)
        while open_pipes:
            for key, _ in selector.select():
                child = key.data
                data = os.read(child.fd, 65536)
                if not data:
                    selector.unregister(child.fd)
                    os.close(child.fd)
                    open_pipes -= 1
                    if not child.done:
                        self._crashed(session, child, children)
                    continue
                child.buffer += data
                *lines, child.buffer = child.buffer.split(b"\n")
                for line in lines:
                    self._handle(hook, child, json.loads(line))
        for child in children:
            os.waitpid(child.pid, 0)

    def _handle(self, hook, child: _Child, message: dict) -> None:
        event = message["event"]
        if event == "logstart":
            child.running = message["nodeid"]
            hook.pytest_runtest_logstart(nodeid=message["nodeid"], location=_location(message))
        elif event == "report":
            report = hook.pytest_report_from_serializable(config=self.config, data=message["data"])
            hook.pytest_runtest_logreport(report=report)
        elif event == "logfinish":
            child.running = None
            hook.pytest_runtest_logfinish(nodeid=message["nodeid"], location=_location(message))
        elif event == "done":
            child.done = True

    def _crashed(self, session: pytest.Session, child: _Child, children: list[_Child]) -> None:
        """A child died mid-test: stop the others and die the same way, naming its test."""
        for other in children:
            if other is not child:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(other.pid, signal.SIGKILL)
        _, status = os.waitpid(child.pid, 0)
        for other in children:
            if other is not child:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(other.pid, 0)
        if child.running is not None:  # the last test started is the one that was running
            location = child.locations.get(child.running)
            session.config.hook.pytest_runtest_logstart(nodeid=child.running, location=location)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
        os._exit(code or 3)


def _location(message: dict) -> tuple | None:
    location = message.get("location")
    return tuple(location) if location is not None else None


class _Forward:
    """In a child: every test event goes to the parent, one JSON line each."""

    def __init__(self, config: pytest.Config, pipe) -> None:
        self.config = config
        self.pipe = pipe

    def _send(self, **message: Any) -> None:
        self.pipe.write(json.dumps(message, default=str) + "\n")

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        self._send(event="logstart", nodeid=nodeid, location=location)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        self._send(event="report", data=data)

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:
        self._send(event="logfinish", nodeid=nodeid, location=location)
