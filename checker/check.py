"""``kata check``: run an exercise's tests in a pytest subprocess and say what they found.

A check passes only with a ``finish`` record in the report, at least one
test, and every test passed. Results are recorded in ``.kata/progress.json``
and reused while neither the exercise nor its test file changes.
"""

from __future__ import annotations

import contextlib
import signal
import tempfile
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
from checker.report import Report, condense, read_report, test_name
from checker.runners import Runner, cold_run, pytest_flags


@dataclass
class CheckOptions:
    timeout: int | None = None  # seconds; overrides the manifest's and the default
    keep_store: bool = False  # keep each test's store for `kata ui`; always re-runs
    verbose: bool = False  # keep pytest's full output; always re-runs
    force: bool = False  # re-run even when nothing changed
    jobs: int = 2  # exercises checked in parallel


def timeout_for(exercise: Exercise, options: CheckOptions) -> int:
    return options.timeout or exercise.timeout or DEFAULT_TIMEOUT


def pytest_args(kata: KataPaths, exercise: Exercise, report: Path, options: CheckOptions):
    """The arguments of pytest for one check (after ``python -m pytest``)."""
    args = [str(kata.test_file(exercise)), *pytest_flags(kata)]
    args += ["-v"] if options.verbose else ["-q"]
    args += ["--kata-report", str(report)]
    if options.keep_store:
        args.append("--keep-store")
    return args


# --- what a run means ------------------------------------------------------------------


def _exit_code(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def interpret(
    exercise: Exercise,
    report: Report,
    returncode: int | None,
    timed_out: bool = False,
    timeout: float | None = None,
) -> CheckResult:
    """Turn a run's report into a CheckResult, in the learner's words."""
    tests = report.tests
    result = CheckResult(
        exercise=exercise.id, status=FAILING, passed=report.passed, total=len(tests)
    )
    running = report.last_started
    during = f"while running {test_name(running)}" if running else "while loading the tests"

    if timed_out:
        result.problem, result.test = TIMEOUT, running and test_name(running)
        result.message = (
            f"timed out after {timeout:g} s {during}. Is there an endless loop, "
            "or a call waiting for input or the network?"
        )
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


def check_one(
    kata: KataPaths, exercise: Exercise, options: CheckOptions, run: Runner = cold_run
) -> CheckResult:
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
        report_file = Path(tmp) / "report.jsonl"
        args = pytest_args(kata, exercise, report_file, options)
        ran = run(args, kata.root, timeout, Path(tmp))
        report = read_report(report_file)
    result = interpret(exercise, report, ran.returncode, ran.timed_out, timeout)
    result.hash, result.checked_at = digest, now().isoformat()
    result.duration, result.output = round(ran.duration, 2), ran.output
    return result


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
) -> list[CheckResult]:
    """Check each exercise (reusing unchanged ones), record and save the results.

    Results come back in the order of ``exercises``, and ``on_done`` sees them in
    that order too, as soon as all earlier ones are done. ``pool``, given the
    exercises to run, may return a pool of warm workers (``checker.warm.pool_for``)
    whose ``runner(exercise)`` replaces ``run``. Ctrl-C stops every running check
    and re-raises.
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

    def check(exercise: Exercise) -> CheckResult:
        if on_start:
            on_start(exercise)
        return check_one(kata, exercise, options, warm.runner(exercise) if warm else run)

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
