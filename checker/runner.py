"""Run an exercise's tests in a pytest subprocess and turn its report into a result.

Each check is its own process (``python -m pytest <test file> --kata-report``),
so a learner's ``os._exit()``, crash, hang or ``sys.exit()`` cannot take the
checker down, and the JSON-lines report says how far it got. A check passes
only with a ``finish`` record, at least one test, and every test passed.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from checker.manifest import DEFAULT_TIMEOUT, Exercise, KataPaths, Manifest
from checker.progress import (
    COLLECT,
    CRASH,
    DONE,
    EXIT,
    FAILING,
    MISSING,
    NO_TESTS,
    NOT_STARTED,
    TIMEOUT,
    CheckResult,
    Progress,
    exercise_hash,
    now,
)
from checker.report import read_report


def pytest_flags(kata: KataPaths) -> list[str]:
    """Flags of every pytest run of the checker.

    The langsmith, hypothesis and anyio plugins cost 3 s together at every start and
    give nothing here (``@given`` works without its plugin); ``-p checker.plugin``
    makes the kata's options available even in a tree without the repository's
    conftest.py; an explicit rootdir keeps test ids relative to the kata root
    (and tells the plugin where the kata is); importlib mode lets two modules
    have test files of the same name.
    """
    return [
        "-p", "no:cacheprovider",
        "-p", "no:langsmith_plugin",
        "-p", "no:hypothesispytest",
        "-p", "no:anyio",
        "-p", "no:asyncio",
        "-p", "checker.plugin",
        "--rootdir", str(kata.root),
        "--import-mode=importlib",
    ]  # fmt: skip


@dataclass
class CheckOptions:
    timeout: int | None = None  # seconds; overrides the manifest's and the default
    keep_store: bool = False  # keep each test's store for `kata ui`; always re-runs
    verbose: bool = False  # keep pytest's full output; always re-runs
    force: bool = False  # re-run even when nothing changed
    jobs: int = 2  # exercises checked in parallel


def timeout_for(exercise: Exercise, options: CheckOptions) -> int:
    return options.timeout or exercise.timeout or DEFAULT_TIMEOUT


def pytest_command(kata: KataPaths, exercise: Exercise, report: Path, options: CheckOptions):
    command = [sys.executable, "-m", "pytest", str(kata.test_file(exercise)), *pytest_flags(kata)]
    command += ["-v"] if options.verbose else ["-q"]
    command += ["--kata-report", str(report)]
    if options.keep_store:
        command.append("--keep-store")
    return command


# --- running one process -----------------------------------------------------

_LIVE: set[subprocess.Popen] = set()  # so Ctrl-C can stop every running check
_LIVE_LOCK = threading.Lock()


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the test and anything it started
        else:  # pragma: no cover - Windows
            proc.kill()
    proc.wait()


def stop_all() -> None:
    """Kill every check still running (after Ctrl-C)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        _kill_group(proc)


@dataclass
class ProcessOutcome:
    returncode: int | None
    timed_out: bool
    output: str
    duration: float


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
            _kill_group(proc)
        except BaseException:  # Ctrl-C: leave nothing running behind us
            _kill_group(proc)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    return ProcessOutcome(proc.returncode, timed_out, output, time.monotonic() - start)


# --- reading the report ------------------------------------------------------


def test_name(nodeid: str | None) -> str:
    """``test_logs_params`` of ``exercises/module_01/test_ex01_x.py::test_logs_params``."""
    return (nodeid or "").split("::", 1)[-1] or "?"


def _tests(records: list[dict]) -> dict[str, dict]:
    """Per test, in run order: its outcome and, when failed, the failing phase."""
    tests: dict[str, dict] = {}
    for record in records:
        if record.get("event") != "result":
            continue
        test = tests.setdefault(record["nodeid"], {"outcome": "passed", "failure": None})
        outcome = record.get("outcome")
        if outcome == "failed" and test["failure"] is None:
            test["outcome"], test["failure"] = "failed", record
        elif outcome == "skipped" and test["failure"] is None:
            test["outcome"] = "skipped"
            test["skip"] = record
    return tests


def _last_started(records: list[dict]) -> str | None:
    starts = [r["nodeid"] for r in records if r.get("event") == "start"]
    return starts[-1] if starts else None


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


def _exit_code(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def interpret(
    exercise: Exercise,
    records: list[dict],
    returncode: int | None,
    timed_out: bool = False,
    timeout: float | None = None,
) -> CheckResult:
    """Turn a run's report records into a CheckResult, in the learner's words."""
    tests = _tests(records)
    passed = sum(t["outcome"] == "passed" for t in tests.values())
    total = len(tests)
    result = CheckResult(exercise=exercise.id, status=FAILING, passed=passed, total=total)
    finish = next((r for r in records if r.get("event") == "finish"), None)
    running = _last_started(records)
    during = f"while running {test_name(running)}" if running else "while loading the tests"

    if timed_out:
        result.problem, result.test = TIMEOUT, running and test_name(running)
        result.message = (
            f"timed out after {timeout:g} s {during}. Is there an endless loop, "
            "or a call waiting for input or the network?"
        )
        return result
    if finish is None:
        result.problem, result.test = CRASH, running and test_name(running)
        result.message = (
            f"the test process stopped unexpectedly ({_exit_code(returncode)}) {during}; "
            "did your code call os._exit() or crash?"
        )
        return result
    collect_errors = [r for r in records if r.get("event") == "collect_error"]
    if collect_errors:
        result.problem = COLLECT
        result.message = "the tests could not be loaded:\n" + condense(collect_errors[0]["message"])
        return result
    if total == 0:
        result.problem = NO_TESTS
        result.message = f"no tests were collected from test_{exercise.stem}.py"
        return result

    failures = [(nodeid, t["failure"]) for nodeid, t in tests.items() if t["failure"]]
    if failures:
        exits = [f for f in failures if f[1].get("exception") == "SystemExit"]
        nodeid, failure = (exits or failures)[0]
        result.test, result.where = test_name(nodeid), failure.get("where")
        if exits:
            result.problem = EXIT
            result.message = (
                f"your code called sys.exit() ({failure.get('message') or 'SystemExit'}). "
                "An exercise returns a value or raises an exception; it never ends the process."
            )
        else:
            result.message = condense(failure.get("message") or "failed")
        if (
            passed == 0
            and len(failures) == total
            and all(f.get("not_implemented") for _, f in failures)
        ):
            result.status = NOT_STARTED
        return result
    skipped = [(nodeid, t) for nodeid, t in tests.items() if t["outcome"] == "skipped"]
    if skipped:
        nodeid, test = skipped[0]
        result.test = test_name(nodeid)
        result.message = f"{len(skipped)} test(s) skipped: {test['skip'].get('message')}"
        return result
    if finish.get("exitstatus") != 0 or returncode != 0:
        result.message = f"pytest ended with exit status {finish.get('exitstatus')}"
        return result
    result.status = DONE
    return result


# --- checking exercises ------------------------------------------------------


def check_one(kata: KataPaths, exercise: Exercise, options: CheckOptions) -> CheckResult:
    """Run one exercise's tests now (no cache) and return what they found."""
    digest = exercise_hash(kata, exercise)
    for what, path in (("exercise", kata.stub(exercise)), ("test", kata.test_file(exercise))):
        if not path.is_file():
            return CheckResult(
                exercise=exercise.id,
                status=FAILING,
                problem=MISSING,
                message=f"the {what} file {kata.relative(path)} does not exist",
                hash=digest,
                checked_at=now().isoformat(),
            )
    timeout = timeout_for(exercise, options)
    with tempfile.TemporaryDirectory(prefix="kata-check-") as tmp:
        report = Path(tmp) / "report.jsonl"
        command = pytest_command(kata, exercise, report, options)
        ran = run_process(command, kata.root, timeout)
        result = interpret(exercise, read_report(report), ran.returncode, ran.timed_out, timeout)
    result.hash, result.checked_at = digest, now().isoformat()
    result.duration, result.output = round(ran.duration, 2), ran.output
    return result


def check_exercises(
    kata: KataPaths,
    exercises: list[Exercise],
    progress: Progress,
    options: CheckOptions,
    on_start: Callable[[Exercise], None] | None = None,
    on_done: Callable[[Exercise, CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check each exercise (reusing unchanged ones), record and save the results.

    Results come back in the order of ``exercises``; ``on_done`` is called as
    each finishes. Ctrl-C stops every running check and re-raises.
    """
    results: dict[str, CheckResult] = {}
    to_run = []
    reuse = not (options.force or options.keep_store or options.verbose)
    for exercise in exercises:
        cached = progress.cached(kata, exercise) if reuse else None
        if cached:
            results[exercise.id] = cached
            if on_done:
                on_done(exercise, cached)
        else:
            to_run.append(exercise)

    def finished(exercise: Exercise, result: CheckResult) -> None:
        results[exercise.id] = result
        progress.record(result)
        progress.save()
        if on_done:
            on_done(exercise, result)

    def run(exercise: Exercise) -> CheckResult:
        if on_start:
            on_start(exercise)
        return check_one(kata, exercise, options)

    if len(to_run) == 1 or options.jobs <= 1:
        for exercise in to_run:  # in this thread: Ctrl-C reaches the wait directly
            finished(exercise, run(exercise))
    elif to_run:
        pool = ThreadPoolExecutor(max_workers=options.jobs)
        try:
            futures = {pool.submit(run, e): e for e in to_run}
            for future in as_completed(futures):
                finished(futures[future], future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise
        pool.shutdown()
    return [results[e.id] for e in exercises]


# --- watching ----------------------------------------------------------------


class Watcher:
    """The state of ``kata watch``: the current exercise, and what a save does.

    ``check`` runs and records one exercise; ``say`` receives events:
    ``("checking", exercise, None)``, ``("result", exercise, result)``,
    ``("next", exercise, None)`` and ``("all_done", None, None)``.
    """

    def __init__(self, kata, manifest: Manifest, progress: Progress, current, check, say):
        self.kata, self.manifest, self.progress = kata, manifest, progress
        self.current: Exercise | None = current or progress.next_exercise(manifest)
        self.check, self.say = check, say

    def start(self) -> bool:
        """Check the current exercise once; False when there is nothing left to do."""
        if self.current is None:
            self.say("all_done", None, None)
            return False
        return self._check(self.current)

    def on_changes(self, changed: Iterable) -> bool:
        """React to saved files; False when every exercise is done."""
        saved = {Path(p).resolve() for p in changed}
        by_file = {}
        for exercise in self.manifest.exercises:
            by_file[self.kata.stub(exercise).resolve()] = exercise
            by_file[self.kata.test_file(exercise).resolve()] = exercise
        touched = [by_file[p] for p in saved if p in by_file]
        if not touched:
            return True
        if self.current not in touched:  # the learner moved on to another file
            self.current = touched[0]
        return self._check(self.current)

    def _check(self, exercise: Exercise) -> bool:
        self.say("checking", exercise, None)
        result = self.check(exercise)
        self.say("result", exercise, result)
        if not result.ok:
            return True
        following = self._next_after(exercise)
        if following is None:
            self.say("all_done", None, None)
            return False
        self.current = following
        self.say("next", following, None)
        return True

    def _next_after(self, exercise: Exercise) -> Exercise | None:
        """The next exercise not done, after this one in manifest order, wrapping."""
        order = self.manifest.exercises
        index = order.index(exercise)
        for candidate in order[index + 1 :] + order[:index]:
            if self.progress.status(candidate.id) != DONE:
                return candidate
        return None


def watch_loop(watcher: Watcher, changes: Iterable[Iterable]) -> None:
    """Drive ``watcher`` from batches of changed paths until all is done."""
    if not watcher.start():
        return
    for batch in changes:
        if not watcher.on_changes(batch):
            return
