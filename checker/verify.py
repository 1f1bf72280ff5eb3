"""``kata verify``: the maintainers' check of the kata itself, what CI runs.

1. ruff check and ruff format --check (LINTED)
2. mypy (TYPED)
3. the manifest and the files on disk match
4. one pytest run (on xdist workers, in random order: pytest-randomly prints
   the seed, ``kata verify --seed N`` replays it) of the harness's own tests (the
   checker's, the kit's, the plan's commands') and of every exercise test three ways:
   it passes on the reference solution, it fails with NotImplementedError on the
   untouched stub, and every plausible wrong solution (checker/tests/mutants/) fails
   at least one test on an assertion. One SparkSession and one MLflow server for it all.
5. the Spark tests again (marker ``spark``), the same three ways, against a local Spark
   Connect server (``--spark-connect``), timed apart.

``kata verify module_NN`` limits steps 4 and 5 to that module's exercises and the
per-exercise contract checks, and skips mypy. Each ruff and mypy command and the
manifest are one check each; so is every test and every wrong solution. Progress
is printed as it happens (CI logs), then each step's time, each module's test time
and the slowest tests; failures are listed again at the end, and the last line is
``N passed, N failed``.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from checker.manifest import (
    KataPaths,
    Manifest,
    ManifestError,
    completeness_problems,
    load_manifest,
)
from checker.mutants import (
    MutantError,
    caught_by_names,
    caught_by_of,
    mutant_names,
    rejection_problems,
    write_caught_by,
)
from checker.process import run_process, stop_all
from checker.report import Report, TestOutcome, condense, read_report
from checker.runners import pytest_flags

STEPS = 5
MUTANT_TESTS = "checker/tests/test_mutants.py"  # step 4 checks the mutants itself
# The tests of the plugin and the command, of the kit, and of the plan's example commands.
HARNESS_TESTS = ["checker/tests", "fixtures/tests", "examples/tests"]
# The checker's tests that concern exercises (stubs, wrong solutions, lessons), by module.
CONTRACT_TESTS = "checker/tests/test_exercise_contract.py"
LINTED = ("checker", "solutions", "fixtures", "examples", "exercises", "benchmarks")  # ruff
TYPED = ("checker", "fixtures", "examples", "benchmarks")  # mypy
SLOWEST = 10


@dataclass
class Tally:
    passed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (check, why)

    @property
    def failed(self) -> int:
        return len(self.failures)


class Reporter:
    """Prints each check as it is decided and counts them."""

    def __init__(self, console: Console):
        self.console = console
        self.tally = Tally()
        self._started: float | None = None

    def print(self, text: Text) -> None:
        self.console.print(text, soft_wrap=True)  # CI logs: one check, one line

    def step(self, number: int, title: str) -> None:
        self.end_step()
        self._started = time.monotonic()
        self.print(Text(f"\n== {number}/{STEPS} {title}", style="bold"))

    def end_step(self) -> None:
        if self._started is not None:
            self.note(f"({time.monotonic() - self._started:.1f} s)")
            self._started = None

    prefix = ""  # put before each check's name (the Spark Connect step says so)

    def passed(self, name: str) -> None:
        self.tally.passed += 1
        self.print(Text.assemble(("  PASS ", "green"), self.prefix + name))

    def failed(self, name: str, why: str) -> None:
        name = self.prefix + name
        self.tally.failures.append((name, why))
        self.print(Text.assemble(("  FAIL ", "bold red"), name))
        self.print(Text(_indent(why, "       ")))

    def note(self, text: str) -> None:
        self.print(Text(f"  {text}", style="dim"))


def _indent(text: str, prefix: str, limit: int = 20) -> str:
    lines = (text or "").strip().splitlines() or ["(no message)"]
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more lines)"]
    return "\n".join(prefix + line for line in lines)


def verify(
    kata: KataPaths,
    modules: list[str] | None,
    console: Console,
    workers: int = 2,
    timeout: float = 1800,
    seed: int | None = None,
    update_caught_by: bool = False,
) -> int:
    """Run the four steps; return 0 when every check passed."""
    out = Reporter(console)
    manifest, manifest_error = _load(kata)
    try:
        selected = _selected_modules(kata, manifest, modules)
    except ManifestError as err:
        console.print(Text(str(err), style="red"))
        return 2
    scope = ", ".join(selected) if modules else "all modules"
    if seed is None:
        seed = random.Random().getrandbits(32)

    out.step(1, "ruff: lint and format")
    ruff_checks(kata, out)
    out.step(2, "mypy: types")
    if modules:
        out.note("skipped: a module's verify checks that module (the full verify runs mypy)")
    else:
        mypy_check(kata, out)
    out.step(3, "the manifest matches the files")
    manifest_check(kata, manifest, manifest_error, out)
    out.step(
        4,
        f"the checker's tests, and every exercise test ({scope}) on its solution (passes), "
        "its stub (NotImplementedError) and its wrong solutions (fail)",
    )
    all_tests(kata, manifest, selected, out, workers, timeout, seed, not modules, update_caught_by)
    out.step(
        5,
        f"the same for every Spark test ({scope}, and the kit's and the plan's commands), over "
        "Spark Connect: a local Spark Connect server started once, as a cluster would be",
    )
    spark_connect_tests(kata, manifest, selected, out, timeout, seed, whole=not modules)
    out.end_step()
    tally = out.tally
    if tally.failures:
        out.print(Text("\nFailed checks:", style="bold red"))
        for name, why in tally.failures:
            first = (why or "").strip().splitlines()
            out.print(Text(f"  - {name}: {first[0] if first else ''}"))
    console.print()
    print(f"{tally.passed} passed, {tally.failed} failed", flush=True)
    return 0 if tally.failed == 0 else 1


def _load(kata: KataPaths) -> tuple[Manifest | None, str | None]:
    try:
        return load_manifest(kata), None
    except ManifestError as err:
        return None, str(err)


def _selected_modules(kata: KataPaths, manifest: Manifest | None, modules) -> list[str]:
    on_disk = sorted(p.name for p in kata.exercises.glob("module_*") if p.is_dir())
    listed = [m.id for m in manifest.modules] if manifest else []
    known = sorted(set(on_disk) | set(listed))
    if not modules:
        return on_disk
    chosen = []
    for name in modules:
        match = re.fullmatch(r"(?:module_?)?(\d{1,2})/?", name.strip())
        module_id = f"module_{int(match.group(1)):02d}" if match else name
        if module_id not in known:
            raise ManifestError(f"There is no module '{name}'. Modules: {', '.join(known)}.")
        chosen.append(module_id)
    return chosen


# --- step 1 -------------------------------------------------------------------


def ruff_checks(kata: KataPaths, out: Reporter) -> None:
    folders = [n for n in LINTED if (kata.root / n).is_dir()]
    if not folders:
        out.note(f"none of {', '.join(LINTED)} to lint")
    for label, args in (
        ("ruff check", ["check", "--no-cache"]),
        ("ruff format --check", ["format", "--check", "--no-cache"]),
    ):
        command = [sys.executable, "-m", "ruff", *args, *folders]
        ran = run_process(command, kata.root, timeout=300)
        name = f"{label} {' '.join(f + '/' for f in folders)}"
        if ran.returncode == 0:
            out.passed(name)
        else:
            out.failed(name, ran.output or f"exit status {ran.returncode}")


def mypy_check(kata: KataPaths, out: Reporter) -> None:
    folders = [n for n in TYPED if (kata.root / n).is_dir()]
    if not folders:
        out.note("no checker/ or fixtures/ to type-check")
        return
    command = [sys.executable, "-m", "mypy", *folders]
    ran = run_process(command, kata.root, timeout=600)
    name = f"mypy {' '.join(f + '/' for f in folders)}"
    if ran.returncode == 0:
        out.passed(name)
    else:
        out.failed(name, ran.output or f"exit status {ran.returncode}")


# --- step 3 -------------------------------------------------------------------


def manifest_check(kata: KataPaths, manifest, error: str | None, out: Reporter) -> None:
    name = f"manifest {kata.relative(kata.manifest)}"
    if manifest is None:
        out.failed(name, error or "unreadable")
        return
    problems = completeness_problems(manifest, kata)
    if problems:
        out.failed(name, "\n".join(problems))
    else:
        out.passed(f"{name}: {len(manifest.exercises)} exercises, entries and files match")


# --- step 4: one pytest run -----------------------------------------------------


TestVerdict = Callable[[TestOutcome], str | None]  # why the test is a failed check, or None


def run_pytest_step(
    kata: KataPaths,
    targets: list[str],
    extra: list[str],
    verdict: TestVerdict,
    out: Reporter,
    workers: int,
    timeout: float,
) -> Report:
    """Run pytest on ``targets``, deciding and printing each test as it finishes.

    Returns the run's report.
    """
    command = [sys.executable, "-m", "pytest", *targets, "-q", *pytest_flags(kata), *extra]
    if workers > 1:
        # A crashed worker is not replaced: under --dist loadgroup, pytest-xdist 3.8
        # hangs or stops with an INTERNALERROR when it replaces one. The crash is then
        # a failure of the test it ran, and the run ends cleanly.
        command += ["-n", str(workers), "--dist", "loadgroup", "--max-worker-restart", "0"]
    decided: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="kata-verify-") as tmp:
        report_file = Path(tmp) / "report.jsonl"
        command += ["--kata-report", str(report_file)]
        holder: dict = {}
        thread = threading.Thread(
            target=lambda: holder.update(ran=run_process(command, kata.root, timeout)),
            daemon=True,
        )
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.5)
                _decide(read_report(report_file), decided, verdict, out)
        except BaseException:  # Ctrl-C or SIGTERM: leave no test process behind
            stop_all()
            raise
        report = read_report(report_file)
        _decide(report, decided, verdict, out, final=True)
        ran = holder.get("ran")
    label = f"pytest {' '.join(targets)}"
    if ran is None:  # run_process raised (e.g. Ctrl-C in the thread)
        out.failed(label, "the test process could not be run")
        return report
    for nodeid, message in report.collect_errors:
        out.failed(f"collecting {nodeid}", message)
    tail = "\n".join(ran.output.strip().splitlines()[-15:])
    if ran.timed_out:
        out.failed(label, f"timed out after {timeout:g} s; tests still running were killed")
    elif not report.finished:
        out.failed(
            label, f"the test process stopped unexpectedly (exit code {ran.returncode})\n{tail}"
        )
    elif not report.tests and report.exitstatus not in (0, 5):
        out.failed(label, f"exit status {report.exitstatus}\n{tail}")
    return report


def _decide(
    report: Report, decided: set[str], verdict: TestVerdict, out: Reporter, final=False
) -> None:
    """Decide each test whose teardown has been reported (or all of them, at the end)."""
    for nodeid, test in report.tests.items():
        if nodeid in decided or not (final or test.complete):
            continue
        if (test.target or "").startswith("mutant:"):
            continue  # a wrong solution is decided over all its tests, at the end
        decided.add(nodeid)
        why = verdict(test)
        if why is None:
            out.passed(nodeid)
        else:
            out.failed(nodeid, why)


def _failure_text(test: TestOutcome) -> str:
    failure = test.failure
    if failure is None:
        return "failed"
    text = condense(failure.message or failure.exception or "failed", 20)
    if failure.where:
        text += f"\n(at {failure.where})"
    return text


def _skipped(test: TestOutcome) -> str | None:
    return test.skip.message if test.skip else None


def verdict(test: TestOutcome) -> str | None:
    """Why ``test`` is a failed check, or None: a checker test and a test on the solution
    must pass, a test on the stub must fail by NotImplementedError."""
    if test.target == "stub":
        if test.outcome == "skipped":
            return f"skipped on the stub: {_skipped(test)}"
        if test.failure is None:
            return "passes on the untouched stub: it must fail until the learner writes the code"
        if test.failure.not_implemented:
            return None
        return (
            f"fails on the stub with {test.failure.exception or 'an error'} "
            "instead of NotImplementedError: " + _failure_text(test)
        )
    where = " on the reference solution" if test.target == "solution" else ""
    if test.outcome == "skipped":
        return f"skipped{where}: {_skipped(test)}"
    if test.failure is not None:
        return f"fails{where}: " + _failure_text(test)
    return None


def all_tests(
    kata: KataPaths,
    manifest: Manifest | None,
    modules: list[str],
    out: Reporter,
    workers: int,
    timeout: float,
    seed: int | None = None,
    whole: bool = True,
    update_caught_by: bool = False,
) -> None:
    """Step 4. ``whole``: with the harness's own tests; else (``kata verify module_NN``)
    only the per-exercise contract checks of ``modules`` beside their exercise tests."""
    if whole:
        targets = [t for t in HARNESS_TESTS if (kata.root / t).is_dir()]
    else:
        targets = [t for t in [CONTRACT_TESTS] if (kata.root / t).is_file()]
    targets += _module_targets(kata, modules)
    if not targets:
        out.failed("tests", "no checker/tests and no exercise tests")
        return
    if seed is None:
        seed = random.Random().getrandbits(32)
    out.note(f"tests run in random order, seed {seed} (to replay it: kata verify --seed {seed})")
    extra = [
        "--kata-targets=solution,stub,mutants",
        "-p",
        "pytest_randomly",
        f"--randomly-seed={seed}",
    ]
    if (kata.root / MUTANT_TESTS).is_file():
        extra.append(f"--ignore={MUTANT_TESTS}")
    if not whole:
        extra.append(f"--kata-modules={','.join(modules)}")
    report = run_pytest_step(kata, targets, extra, verdict, out, workers, timeout)
    for folder in [t for t in targets if t in [*HARNESS_TESTS, CONTRACT_TESTS]]:
        if not any(n.split("::")[0].startswith(folder) for n in report.tests):
            out.failed(folder, "no tests were collected")
    exercises = _exercises(kata, manifest, modules)
    _check_every_exercise_ran(kata, exercises, report, out)
    _check_wrong_solutions(kata, exercises, report, out, update_caught_by)
    _print_times(report, modules, out)


def spark_connect_tests(
    kata: KataPaths,
    manifest: Manifest | None,
    modules: list[str],
    out: Reporter,
    timeout: float,
    seed: int | None,
    whole: bool,
) -> None:
    """Step 5: the Spark tests (marker ``spark``) again, against a Spark Connect server:
    one process, so one server (its time is printed apart from step 4's)."""
    if not (kata.root / "fixtures" / "spark.py").is_file():
        out.note("the kit has no Spark session (fixtures/spark.py): nothing to run")
        return
    targets = _module_targets(kata, modules)
    if whole:
        targets += [t for t in ("fixtures/tests", "examples/tests") if (kata.root / t).is_dir()]
    if not targets:
        out.note("no tests to run")
        return
    extra = ["--kata-targets=solution,stub,mutants", "-m", "spark", "--spark-connect"]
    if seed is not None:
        extra += ["-p", "pytest_randomly", f"--randomly-seed={seed}"]
    out.prefix = "[spark connect] "
    try:
        report = run_pytest_step(kata, targets, extra, verdict, out, 0, timeout)
        if not report.tests:
            out.note("no Spark tests in these modules")
            return
        ran = {n.split("::", 1)[0] for n in report.tests}
        exercises = [
            (m, s)
            for m, s in _exercises(kata, manifest, modules)
            if f"exercises/{m}/test_{s}.py" in ran
        ]
        _check_wrong_solutions(kata, exercises, report, out, only_caught_by_tests_that_ran=True)
        spark_time = sum(t.duration for t in report.tests.values())
        out.note(f"Spark Connect: {len(report.tests)} tests, {spark_time:.1f} s of test time")
    finally:
        out.prefix = ""


def _exercises(kata: KataPaths, manifest: Manifest | None, modules: list[str]):
    """(module, stem) of each exercise of ``modules``: from the manifest, else the disk."""
    if manifest is not None:
        return [(e.module, e.stem) for e in manifest.exercises if e.module in modules]
    return [
        (m, p.stem.removeprefix("test_"))
        for m in modules
        for p in sorted((kata.exercises / m).glob("test_ex*.py"))
    ]


def _module_targets(kata: KataPaths, modules: list[str]) -> list[str]:
    return [f"exercises/{m}" for m in modules if any((kata.exercises / m).glob("test_ex*.py"))]


def _check_every_exercise_ran(kata, exercises, report: Report, out: Reporter) -> None:
    """Every exercise needs at least one test, run on its solution and on its stub."""
    for module, stem in exercises:
        test_file = f"exercises/{module}/test_{stem}.py"
        ran = {t.target for n, t in report.tests.items() if n.split("::", 1)[0] == test_file}
        missing = [kind for kind in ("solution", "stub") if kind not in ran]
        if missing:
            out.failed(test_file, f"no test of this exercise ran on its {' or '.join(missing)}")


def _check_wrong_solutions(
    kata,
    exercises,
    report: Report,
    out: Reporter,
    update_caught_by: bool = False,
    only_caught_by_tests_that_ran: bool = False,
) -> None:
    """Each plausible wrong solution must fail at least one test, on an assertion. With
    ``update_caught_by``, each mutant's TOML records the test that caught it. With
    ``only_caught_by_tests_that_ran`` (the Spark Connect step, which runs the Spark
    tests only), a wrong solution is checked only if its ``caught_by`` test ran."""
    changed = 0
    for module, stem in exercises:
        test_file = f"exercises/{module}/test_{stem}.py"
        try:
            names = mutant_names(kata, module, stem)
            if only_caught_by_tests_that_ran:
                ran = {
                    t.name.split("[", 1)[0]
                    for n, t in report.tests.items()
                    if n.startswith(test_file)
                }
                caught_by = caught_by_names(kata, module, stem)
                names = [n for n in names if caught_by.get(n) in ran]
        except (MutantError, KeyError, ValueError) as err:
            out.failed(f"wrong solutions of {module}/{stem}", str(err))
            continue
        problems = rejection_problems(report, test_file, names)
        caught = caught_by_of(report, test_file)
        for name in names:
            label = f"{module}/{stem}: wrong solution '{name}' is rejected"
            if name in problems:
                out.failed(label, problems[name])
            else:
                out.passed(f"{label} (by {caught.get(name, '?')})")
        if update_caught_by and caught:
            changed += write_caught_by(kata, module, stem, caught)
    if update_caught_by:
        out.note(f"caught_by updated for {changed} wrong solutions")


def _print_times(report: Report, modules: list[str], out: Reporter) -> None:
    """Test time (summed over the workers) per part and per kind of target, and the
    slowest tests."""
    totals: dict[str, float] = {}
    kinds: dict[str, float] = {}
    for nodeid, test in report.tests.items():
        part = nodeid.split("/")[1] if nodeid.startswith("exercises/") else nodeid.split("/")[0]
        totals[part] = totals.get(part, 0.0) + test.duration
        kind = (test.target or "harness").split(":", 1)[0]
        kinds[kind] = kinds.get(kind, 0.0) + test.duration
    out.note("test time per part (seconds, summed over the workers):")
    for part in ["checker", "fixtures", "examples", *modules]:
        if part in totals:
            out.note(f"  {part:<10} {totals[part]:7.1f}")
    out.note(
        "  by target: "
        + ", ".join(f"{kind} {seconds:.1f}" for kind, seconds in sorted(kinds.items()))
    )
    slowest = sorted(report.tests.values(), key=lambda t: t.duration, reverse=True)[:SLOWEST]
    out.note(f"the {len(slowest)} slowest tests:")
    for test in slowest:
        out.note(f"  {test.duration:6.1f} s  {test.nodeid}")
