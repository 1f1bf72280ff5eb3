"""Run a command in its own process group, with a timeout, and stop it for sure.

Each check and each verify step is a subprocess, so a learner's ``os._exit()``,
crash, hang or ``sys.exit()`` cannot take the checker down. On a timeout, or
when the learner presses Ctrl-C, the whole process group is killed: the test
process and anything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_LIVE: set[subprocess.Popen] = set()  # so Ctrl-C can stop every running command
_LIVE_LOCK = threading.Lock()


@dataclass
class ProcessOutcome:
    returncode: int | None
    timed_out: bool
    output: str  # stdout and stderr, interleaved
    duration: float  # seconds


def run_process(command: list[str], cwd: Path, timeout: float) -> ProcessOutcome:
    """Run ``command`` in its own process group; kill the whole group on timeout."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,  # input() fails instead of waiting forever
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with _LIVE_LOCK:
            _LIVE.add(proc)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
        except BaseException:  # Ctrl-C: leave nothing running behind us
            kill_group(proc)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    return ProcessOutcome(proc.returncode, timed_out, output, time.monotonic() - start)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and everything in its process group, and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    proc.wait()


def stop_all() -> None:
    """Kill every command still running (after Ctrl-C)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        kill_group(proc)


def wait_for_child(pid: int, timeout: float) -> tuple[int | None, bool]:
    """Wait for a forked child that leads its own process group: its return code
    (negative for a signal) and whether it ran out of ``timeout`` seconds (then its
    whole group is killed)."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status), True
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
