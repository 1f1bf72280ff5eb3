"""``--kata-forks N``: run the tests of one check in N forked processes at once.

``kata check`` and ``kata watch`` check one exercise at a time, and its tests
would otherwise run one after the other on one core. With ``--kata-forks 2``
pytest collects the tests as usual, then forks two children after collection.
The parent deals the tests out in order (``Dealer``): each child gets two to
begin with and one more each time it finishes one, so a child with quick tests
takes more of them and both finish at about the same time. Each child runs its
tests with its own session fixtures and its own temp folder and sends every
result back through a pipe. The parent hands those results to pytest's own
hooks, as if it had run the tests itself, so the terminal summary, the
``--kata-report`` file and the exit status are those of a serial run; only the
order in which results arrive may differ.

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
import sys
from collections import deque
from dataclasses import dataclass
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


class Dealer:
    """Which test each fork runs next, by position in ``items``: the first tests go
    out first (those that failed last time, with ``--kata-first``), to whichever fork
    asks. The tests of one ``xdist_group`` all go to one fork, chosen at the start."""

    def __init__(self, items: list, forks: int):
        self.shared: deque[int] = deque()
        pinned: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            group = _group(item)
            if group is None:
                self.shared.append(index)
            else:
                pinned.setdefault(group, []).append(index)
        self.forks = max(1, min(forks, len(self.shared) + len(pinned)))
        shares: list[list[int]] = [[] for _ in range(self.forks)]
        for tests in sorted(pinned.values(), key=len, reverse=True):
            min(shares, key=len).extend(tests)
        self.pinned = [deque(sorted(share)) for share in shares]

    def first_tests(self) -> list[list[int]]:
        """Two tests for each fork to start with (the second lets it know its next test,
        which pytest needs to keep session fixtures up), dealt round robin."""
        dealt: list[list[int]] = [[] for _ in range(self.forks)]
        for _ in range(2):
            for fork in range(self.forks):
                following = self.next_for(fork)
                if following is not None:
                    dealt[fork].append(following)
        return dealt

    def next_for(self, fork: int) -> int | None:
        """The next test for ``fork``, or None when it has none left."""
        pinned = self.pinned[fork]
        if pinned and (not self.shared or pinned[0] < self.shared[0]):
            return pinned.popleft()
        return self.shared.popleft() if self.shared else None


@dataclass
class _Child:
    number: int
    pid: int
    fd: int  # its results, one JSON line each
    orders: int  # where the parent writes the position of its next test, or "stop"
    buffer: bytes = b""
    running: str | None = None  # the test it has started and not finished
    stopped: bool = False  # told that it has no more tests
    done: bool = False


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
        items = list(session.items)
        dealer = Dealer(items, self.forks)
        if dealer.forks < 2:
            return None
        base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        children = [self._start(items, n, base / f"fork{n}") for n in range(dealer.forks)]
        for child, tests in zip(children, dealer.first_tests(), strict=True):
            for test in tests:
                _order(child, test)
            if len(tests) < 2:
                _order(child, None)  # no more tests: it must not wait for a next one
        self._relay(session, children, dealer, {i.nodeid: i.location for i in items})
        return True

    # --- in a child ---------------------------------------------------------------------

    def _start(self, items: list, number: int, basetemp: Path) -> _Child:
        results_read, results_write = os.pipe()
        orders_read, orders_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(results_read)
            os.close(orders_write)
            self._run_tests(items, basetemp, results_write, orders_read)  # never returns
        os.close(results_write)
        os.close(orders_read)
        return _Child(number=number, pid=pid, fd=results_read, orders=orders_write)

    def _run_tests(self, items: list, basetemp: Path, results: int, orders: int) -> None:
        """Run the tests the parent names, one after the other, until it says stop."""
        code = 0
        before = set(sys.modules)
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
            pipe = os.fdopen(results, "w", buffering=1, encoding="utf-8")
            manager.register(_Forward(config, pipe), "kata-forward")
            queue = _Orders(orders, items)
            item = queue.next()
            while item is not None:
                following = queue.next()  # pytest keeps session fixtures up for it
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
                item = following
            pipe.write(json.dumps({"event": "done"}) + "\n")
            pipe.flush()
        except BaseException:  # noqa: BLE001 - the parent sees the missing "done"
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            try:
                from checker.warm import note_learned

                note_learned(before)  # what the tests imported, for kata watch's worker
            finally:
                os._exit(code)  # whatever happens, a child never returns into pytest

    # --- in the parent ------------------------------------------------------------------

    def _relay(
        self, session: pytest.Session, children: list[_Child], dealer: Dealer, locations: dict
    ) -> None:
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
                        self._crashed(session, child, children, locations)
                    continue
                child.buffer += data
                *lines, child.buffer = child.buffer.split(b"\n")
                for line in lines:
                    message = json.loads(line)
                    self._handle(hook, child, message)
                    if message["event"] == "logfinish":  # it asks for its next test now
                        _order(child, dealer.next_for(child.number))
        for child in children:
            os.close(child.orders)
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

    def _crashed(
        self, session: pytest.Session, child: _Child, children: list[_Child], locations: dict
    ) -> None:
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
            location = locations.get(child.running)
            session.config.hook.pytest_runtest_logstart(nodeid=child.running, location=location)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
        os._exit(code or 3)


def _order(child: _Child, test: int | None) -> None:
    """Tell ``child`` which test to run after those it has (by position), or to stop."""
    if child.stopped:
        return
    child.stopped = test is None
    with contextlib.suppress(BrokenPipeError):  # it died: its results pipe says how
        os.write(child.orders, f"{'stop' if test is None else test}\n".encode())


class _Orders:
    """In a child: the tests the parent names, read one line at a time."""

    def __init__(self, fd: int, items: list):
        self.lines = os.fdopen(fd, encoding="utf-8")
        self.items = items
        self.stopped = False

    def next(self):
        """The next test to run, waiting for the parent to name it; None after "stop"."""
        if self.stopped:
            return None
        line = self.lines.readline().strip()
        if line in ("", "stop"):
            self.stopped = True
            return None
        return self.items[int(line)]


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
