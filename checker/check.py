"""``kata check``: run an exercise's tests in a pytest subprocess and say what they found.

A check passes only with a ``finish`` record in the report, at least one
test, and every test passed. Results are recorded in ``.kata/progress.json``
and reused while neither the exercise nor its test file changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from checker.manifest import DEFAULT_TIMEOUT, Exercise, KataPaths
from checker.process import stop_all
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
from checker.report import Report, TestOutcome, condense, read_report, test_name
from checker.runners import Runner, cold_run, pytest_flags


@dataclass
class CheckOptions:
    timeout: int | None = None  # seconds; overrides the manifest's and the default
    keep_store: bool = False  # keep each test's store for `kata ui`; always re-runs
    verbose: bool = False  # keep pytest's full output; always re-runs
    force: bool = False  # re-run even when nothing changed
    jobs: int = 2  # exercises checked in parallel
    forks: int | None = None  # processes for one exercise's tests (default: the cores)


def forks_for(options: CheckOptions, exercises_at_once: int) -> int:
    """How many processes share one exercise's tests: the cores, divided among the
    exercises checked at the same time."""
    if options.forks is not None:
        return max(1, options.forks)
    return max(1, (os.cpu_count() or 1) // max(1, exercises_at_once))


def timeout_for(exercise: Exercise, options: CheckOptions) -> int:
    return options.timeout or exercise.timeout or DEFAULT_TIMEOUT


def pytest_args(
    kata: KataPaths,
    exercise: Exercise,
    report: Path,
    options: CheckOptions,
    first: list[str] | None = None,
    forks: int = 1,
) -> list[str]:
    """The arguments of pytest for one check (after ``python -m pytest``): ``first``
    are the tests to run first, in order (see ``run_order``), ``forks`` the processes
    that share the tests."""
    args = [str(kata.test_file(exercise)), *pytest_flags(kata)]
    args += ["-v"] if options.verbose else ["-q"]
    args += ["--kata-report", str(report)]
    if first:
        args += ["--kata-first", ",".join(first)]
    if forks > 1:
        args += ["--kata-forks", str(forks)]
    if options.keep_store:
        args.append("--keep-store")
    return args


# --- what a run means ------------------------------------------------------------------


def _exit_code(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


# A test still running after this share of the time budget looks stuck, not slow.
STUCK_SHARE = 0.5


def _timed_out(result: CheckResult, report: Report, timeout: float, ended_at: float) -> None:
    """Why the check ran out of time: a test that hangs, or a machine too busy."""
    running = report.last_started
    result.problem, result.test = TIMEOUT, running and test_name(running)
    during = f"while running {test_name(running)}" if running else "while loading the tests"
    took = report.running_for(ended_at)
    longer = f"`kata check {result.exercise} --timeout {int(timeout * 2)}`"
    if running and took is not None and took < timeout * STUCK_SHARE:
        result.message = (
            f"ran out of its time budget of {timeout:g} s {during}, with {report.passed} of "
            f"the tests passed so far and none failed: your code looks fine, the machine is "
            f"probably busy. Run it again, or give it more time with {longer}."
        )
        if report.failures:
            result.message = result.message.replace(" and none failed", "")
        return
    result.message = (
        f"timed out after {timeout:g} s {during}. Is there an endless loop, or a call "
        f"waiting for input or the network? (If the machine is just slow: {longer}.)"
    )


def quickest_first(failures: list[TestOutcome]) -> list[str]:
    """The names of the failed tests, the quickest first (set-up included): run first
    next time, they bring the first verdict soonest."""
    seconds = _seconds_by_name(failures, min)
    return sorted(seconds, key=seconds.__getitem__)


def slowest_first(passes: list[TestOutcome]) -> list[str]:
    """The names of the passed tests, the slowest first: run after the failed ones next
    time, so that the long ones start early and the forks end together."""
    seconds = _seconds_by_name(passes, max)
    return sorted(seconds, key=seconds.__getitem__, reverse=True)


def _seconds_by_name(tests: list[TestOutcome], pick) -> dict[str, float]:
    """Each test's duration by name (the parametrized cases of one test share a name)."""
    seconds: dict[str, float] = {}
    for test in tests:
        name = test.name.split("[", 1)[0]
        seconds[name] = pick(seconds.get(name, test.duration), test.duration)
    return seconds


def run_order(last: CheckResult | None) -> list[str] | None:
    """The tests to run first in the next check, in order: last time's failures, the
    quickest first, then its passes, the slowest first."""
    if last is None:
        return None
    passed = [name for name in last.passed_tests if name not in last.failed_tests]
    return [*last.failed_tests, *passed] or None


def interpret(
    exercise: Exercise,
    report: Report,
    returncode: int | None,
    timed_out: bool = False,
    timeout: float | None = None,
    ended_at: float | None = None,
) -> CheckResult:
    """Turn a run's report into a CheckResult, in the learner's words. ``ended_at``
    (seconds since the epoch) is when a timed-out run was stopped."""
    tests = report.tests
    result = CheckResult(
        exercise=exercise.id, status=FAILING, passed=report.passed, total=len(tests)
    )
    running = report.last_started
    during = f"while running {test_name(running)}" if running else "while loading the tests"

    result.failed_tests = quickest_first(report.failures)
    result.passed_tests = slowest_first([t for t in tests.values() if t.outcome == "passed"])
    if timed_out:
        _timed_out(result, report, timeout or 0, ended_at or time.time())
        return result
    if not report.finished:
        result.problem, result.test = CRASH, running and test_name(running)
        result.message = (
            f"the test process stopped unexpectedly ({_exit_code(returncode)}) {during}; "
            "did your code call os._exit() or crash?"
        )
        return result
    if report.collect_errors:
        result.problem = COLLECT
        result.message = "the tests could not be loaded:\n" + condense(report.collect_errors[0][1])
        return result
    if not tests:
        result.problem = NO_TESTS
        result.message = f"no tests were collected from test_{exercise.stem}.py"
        return result

    failures = report.failures
    if failures:
        exits = [t for t in failures if t.failure and t.failure.exception == "SystemExit"]
        first = (exits or failures)[0]
        failure = first.failure
        assert failure is not None
        result.test, result.where = first.name, failure.where
        if exits:
            result.problem = EXIT
            result.message = (
                f"your code called sys.exit() ({failure.message or 'SystemExit'}). "
                "An exercise returns a value or raises an exception; it never ends the process."
            )
        else:
            result.message = condense(failure.message or "failed")
        untouched = all(t.failure and t.failure.not_implemented for t in failures)
        if report.passed == 0 and len(failures) == len(tests) and untouched:
            result.status = NOT_STARTED
        return result
    skipped = [t for t in tests.values() if t.outcome == "skipped"]
    if skipped:
        result.test = skipped[0].name
        reason = skipped[0].skip.message if skipped[0].skip else ""
        result.message = f"{len(skipped)} test(s) skipped: {reason}"
        return result
    if report.exitstatus != 0 or returncode != 0:
        result.message = f"pytest ended with exit status {report.exitstatus}"
        return result
    result.status = DONE
    return result


# --- checking exercises ------------------------------------------------------


# Called with the report so far, each time it grows while the tests run.
OnProgress = Callable[[Report], None]


def check_one(
    kata: KataPaths,
    exercise: Exercise,
    options: CheckOptions,
    run: Runner = cold_run,
    first: list[str] | None = None,
    forks: int = 1,
    on_progress: OnProgress | None = None,
) -> CheckResult:
    """Run one exercise's tests now (no cache) and return what they found.

    ``first`` run first (the tests that failed last time); ``forks`` processes share
    the tests; ``on_progress`` sees the report grow as results land.
    """
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
        report_file = Path(tmp) / "report.jsonl"
        args = pytest_args(kata, exercise, report_file, options, first, forks)
        with _watching(report_file, on_progress):
            ran = run(args, kata.root, timeout, Path(tmp))
        ended_at = time.time()
        report = read_report(report_file)
    result = interpret(exercise, report, ran.returncode, ran.timed_out, timeout, ended_at)
    result.hash, result.checked_at = digest, now().isoformat()
    result.duration, result.output = round(ran.duration, 2), ran.output
    return result


@contextlib.contextmanager
def _watching(report_file: Path, on_progress: OnProgress | None, every: float = 0.05):
    """While the block runs, hand ``on_progress`` the report each time it grows."""
    if on_progress is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        size = -1
        while True:
            stopping = stop.wait(every)
            with contextlib.suppress(OSError):
                now_size = report_file.stat().st_size
                if now_size != size:
                    size = now_size
                    on_progress(read_report(report_file))
            if stopping:
                return

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class Pool(Protocol):
    """Workers that check exercises: ``runner(exercise)`` is a Runner; ``stop()`` ends them."""

    def runner(self, exercise: Exercise) -> Runner: ...

    def stop(self) -> None: ...


PoolFactory = Callable[[list[Exercise]], Pool | None]


class InOrder:
    """Hands results to ``on_done`` in the exercises' order, whatever order they finish in."""

    def __init__(self, exercises: list[Exercise], on_done: Callable | None):
        self.waiting = list(exercises)
        self.ready: dict[str, CheckResult] = {}
        self.on_done = on_done

    def finished(self, exercise: Exercise, result: CheckResult) -> None:
        self.ready[exercise.id] = result
        while self.waiting and self.waiting[0].id in self.ready:
            first = self.waiting.pop(0)
            if self.on_done:
                self.on_done(first, self.ready[first.id])


def check_exercises(
    kata: KataPaths,
    exercises: list[Exercise],
    progress: Progress,
    options: CheckOptions,
    on_start: Callable[[Exercise], None] | None = None,
    on_done: Callable[[Exercise, CheckResult], None] | None = None,
    run: Runner = cold_run,
    pool: PoolFactory | None = None,
    on_progress: Callable[[Exercise, Report], None] | None = None,
) -> list[CheckResult]:
    """Check each exercise (reusing unchanged ones), record and save the results.

    Results come back in the order of ``exercises``, and ``on_done`` sees them in
    that order too, as soon as all earlier ones are done. ``pool``, given the
    exercises to run, may return a pool of warm workers (``checker.warm.pool_for``)
    whose ``runner(exercise)`` replaces ``run``. Each exercise's tests that failed
    last time run first; ``on_progress`` sees each exercise's report grow while its
    tests run. Ctrl-C stops every running check and re-raises.
    """
    results: dict[str, CheckResult] = {}
    in_order = InOrder(exercises, on_done)
    to_run = []
    reuse = not (options.force or options.keep_store or options.verbose)
    for exercise in exercises:
        cached = progress.cached(kata, exercise) if reuse else None
        if cached:
            results[exercise.id] = cached
            in_order.finished(exercise, cached)
        else:
            to_run.append(exercise)

    def finished(exercise: Exercise, result: CheckResult) -> None:
        results[exercise.id] = result
        progress.record(result)
        progress.save()
        in_order.finished(exercise, result)

    warm = pool(to_run) if pool and to_run else None

    at_once = 1 if len(to_run) == 1 else max(1, options.jobs)
    forks = forks_for(options, at_once)

    def check(exercise: Exercise) -> CheckResult:
        if on_start:
            on_start(exercise)
        last = progress.result(exercise.id)
        return check_one(
            kata,
            exercise,
            options,
            warm.runner(exercise) if warm else run,
            first=run_order(last),
            forks=forks,
            on_progress=(lambda report: on_progress(exercise, report)) if on_progress else None,
        )

    try:
        if len(to_run) == 1 or options.jobs <= 1:
            for exercise in to_run:  # in this thread: Ctrl-C reaches the wait directly
                finished(exercise, check(exercise))
        elif to_run:
            threads = ThreadPoolExecutor(max_workers=options.jobs)
            try:
                futures = {threads.submit(check, e): e for e in to_run}
                for future in as_completed(futures):
                    finished(futures[future], future.result())
            except BaseException:
                threads.shutdown(wait=False, cancel_futures=True)
                stop_all()
                raise
            threads.shutdown()
    finally:
        if warm:
            warm.stop()
    return [results[e.id] for e in exercises]
