"""How long does a learner wait for a verdict? Not a test: a measurement.

    uv run python benchmarks/warm_checks.py [--all] [--repeat 3] [--cold-repeat N]
        [module_NN/exKK_slug ...]

For the first exercise of each module (``--all``: every exercise; or the ones
named), measured one after the other in one run on this machine:

    import mlflow   ``python -c "import mlflow"``: the floor of any cold start
    pytest          ``python -m pytest exercises/module_NN/test_exKK_slug.py`` on the reference
                    solution, a new process (what a learner runs by hand)
    first           the untouched stub re-checked the way ``kata watch`` does after a save (a
                    fork of its warm worker, the tests spread over the cores): seconds until the
                    first failing test's verdict is on screen
    warm            the reference solution re-checked the same way: seconds until the full
                    "all pass" verdict

As in ``kata watch``, the servers some exercises need (an MLflow server, the AI Gateway
server, Spark Connect) are started once, the first time an exercise needs one, and not
counted; the cold ``pytest`` column starts its own, as a learner's run does.

Each figure is the median of ``--repeat`` runs, in seconds. The first check of an
exercise (which also imports its libraries into the worker and builds its store
snapshots) is not counted, and each check starts once the worker is idle again, as
after a learner's pause. Everything runs in a throw-away copy of the kata: your
files are never touched. Spark exercises are marked and summarised apart.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.check import CheckOptions, check_one, forks_for, run_order  # noqa: E402
from checker.manifest import Exercise, KataPaths, load_manifest  # noqa: E402
from checker.progress import CheckResult  # noqa: E402
from checker.services import WatchServices  # noqa: E402
from checker.store import template_db  # noqa: E402
from checker.warm import WarmWorker, imports_of  # noqa: E402

COPIED = ["checker", "fixtures", "exercises", "solutions", "conftest.py", "pyproject.toml"]


def copy_of_the_kata(folder: Path) -> KataPaths:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, folder / name)
    return KataPaths(folder)


def timed(command: list[str], cwd: Path) -> tuple[float, bool]:
    """Seconds that ``command`` took, and whether it succeeded (without the servers that
    the benchmark keeps for the warm checks, as a learner's own run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KATA_")}
    start = time.perf_counter()
    ran = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if ran.returncode != 0:
        print(f"  {' '.join(command[-1:])} failed:\n{ran.stdout[-1500:]}", flush=True)
    return time.perf_counter() - start, ran.returncode == 0


def median_of(repeat: int, measure: Callable[[], tuple[float, bool]]) -> tuple[float, bool]:
    """The median time of ``repeat`` measurements, and whether every one succeeded."""
    results = [measure() for _ in range(repeat)]
    return statistics.median(t for t, _ok in results), all(ok for _t, ok in results)


def warm_check(kata: KataPaths, exercise: Exercise, worker: WarmWorker) -> tuple[float, bool]:
    """What ``kata watch`` does after a save of a solution: seconds to the full verdict."""
    worker.warm([])  # a learner edits between saves: the worker is idle again
    start = time.perf_counter()
    forks = forks_for(CheckOptions(), 1)
    first = run_order(_LAST_SOLUTION_CHECK.get(exercise.id))  # as kata watch: last time's order
    result = check_one(kata, exercise, CheckOptions(), worker.run, first, forks)
    _LAST_SOLUTION_CHECK[exercise.id] = result
    if not result.ok:
        print(f"  {exercise.id}: the solution's warm check failed: {result.message}", flush=True)
    return time.perf_counter() - start, result.ok


_LAST_FAILED: dict[str, list[str]] = {}  # exercise id -> the tests its last check failed
_LAST_SOLUTION_CHECK: dict[str, CheckResult] = {}  # exercise id -> its solution's last check


def first_verdict(kata: KataPaths, exercise: Exercise, worker: WarmWorker) -> tuple[float, bool]:
    """What ``kata watch`` does after a save of the untouched stub: seconds until the first
    failing test's verdict lands (it is printed the moment it does)."""
    worker.warm([])  # as above
    start = time.perf_counter()
    seen: list[float] = []

    def on_progress(report) -> None:
        if report.failures and not seen:
            seen.append(time.perf_counter() - start)

    forks = forks_for(CheckOptions(), 1)
    first = _LAST_FAILED.get(exercise.id)  # as kata watch: last time's failures first
    result = check_one(
        kata, exercise, CheckOptions(), worker.run, first, forks, on_progress=on_progress
    )
    _LAST_FAILED[exercise.id] = result.failed_tests
    failed_as_expected = not result.ok and bool(seen)
    if not failed_as_expected:
        print(f"  {exercise.id}: the stub's warm check did not fail first: {result.message}")
    return (seen[0] if seen else time.perf_counter() - start), failed_as_expected


def uses_spark(kata: KataPaths, exercise: Exercise) -> bool:
    tests = kata.test_file(exercise).read_text(encoding="utf-8")
    takes_spark = re.search(r"def test_\w+\([^)]*\bspark\b", tests)
    return "pyspark" in imports_of(kata, exercise) or bool(takes_spark)


def chosen(manifest, names: list[str], every: bool) -> list[Exercise]:
    if names:
        return [manifest.find(name) for name in names]
    if every:
        return list(manifest.exercises)
    firsts: dict[str, Exercise] = {}
    for exercise in manifest.exercises:
        firsts.setdefault(exercise.module, exercise)
    return list(firsts.values())


def measure(
    kata: KataPaths,
    exercise: Exercise,
    worker: WarmWorker,
    services: WatchServices,
    repeat: int,
    cold: int,
):
    """(pytest, first verdict on the stub, warm re-check) medians, and whether all went as
    expected (the solution passes, the stub fails)."""
    python, root = sys.executable, kata.root
    stub, solution = kata.stub(exercise), kata.solution(exercise)
    original = stub.read_bytes()
    try:
        shutil.copy2(solution, stub)
        test = str(kata.test_file(exercise).relative_to(root))
        pytest = [python, "-m", "pytest", "-q", "-p", "no:randomly", test]
        pytest_s, pytest_ok = median_of(cold, lambda: timed(pytest, root))
        os.environ.update(services.environment_for(kata.test_file(exercise)))  # as kata watch
        worker.warm(imports_of(kata, exercise))
        warm_check(kata, exercise, worker)  # imports on first use, builds snapshots
        warm_s, warm_ok = median_of(repeat, lambda: warm_check(kata, exercise, worker))
        stub.write_bytes(original)
        first_verdict(kata, exercise, worker)
        first_s, first_ok = median_of(repeat, lambda: first_verdict(kata, exercise, worker))
    finally:
        stub.write_bytes(original)
    return (pytest_s, first_s, warm_s), pytest_ok and warm_ok and first_ok


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="exercises to measure (one per module)")
    parser.add_argument("--all", action="store_true", help="measure every exercise")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (3)")
    parser.add_argument(
        "--cold-repeat", type=int, help="runs of the cold pytest column (default: --repeat)"
    )
    args = parser.parse_args(argv)

    exercises = chosen(load_manifest(KataPaths(ROOT)), args.exercises, args.all)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as tmp:
        kata = copy_of_the_kata(Path(tmp))
        import_mlflow, _ = median_of(
            args.repeat, lambda: timed([sys.executable, "-c", "import mlflow"], kata.root)
        )
        print(f"python -c 'import mlflow': {import_mlflow:.2f} s (median of {args.repeat})")
        start = time.perf_counter()
        services = WatchServices(Path(tmp) / "services", template_db(kata.state / "cache"))
        worker = WarmWorker(kata).start()
        worker.warm([])  # answers once the base modules are loaded
        print(f"warm worker ready in {time.perf_counter() - start:.2f} s (once per watch)\n")

        header = f"{'exercise':<42} {'pytest':>7} {'first':>7} {'warm':>7} {'pytest/import':>14}"
        print(header)
        print("-" * len(header))
        try:
            for exercise in exercises:
                (pytest_s, first_s, warm_s), ok = measure(
                    kata, exercise, worker, services, args.repeat, args.cold_repeat or args.repeat
                )
                spark = uses_spark(kata, exercise)
                rows.append((exercise.id, pytest_s / import_mlflow, first_s, warm_s, spark))
                notes = ("  spark" if spark else "") + ("" if ok else "  (not as expected!)")
                print(
                    f"{exercise.id:<42} {pytest_s:7.2f} {first_s:7.2f} {warm_s:7.2f} "
                    f"{pytest_s / import_mlflow:13.1f}x{notes}",
                    flush=True,
                )
        finally:
            worker.stop()
            services.stop()
    summarise(rows)
    return 0


def summarise(rows: list[tuple[str, float, float, float, bool]]) -> None:
    plain = [r for r in rows if not r[4]]
    spark = [r for r in rows if r[4]]
    print()
    if plain:
        warm = [r[3] for r in plain]
        first = [r[2] for r in plain]
        ratios = [r[1] for r in plain]
        print(f"without Spark ({len(plain)} exercises):")
        print(
            f"  warm re-check: median {statistics.median(warm):.2f} s, "
            f"90th percentile {percentile(warm, 0.9):.2f} s, max {max(warm):.2f} s"
        )
        print(
            f"  first verdict on the stub: max {max(first):.2f} s; "
            f"{sum(f < 1.0 for f in first)} of {len(first)} under 1 s"
        )
        print(
            f"  cold pytest / import mlflow: median {statistics.median(ratios):.2f}x, "
            f"90th percentile {percentile(ratios, 0.9):.2f}x, "
            f"{sum(r <= 2.0 for r in ratios)} of {len(ratios)} at most 2x"
        )
    if spark:
        worst = max(spark, key=lambda r: r[3])
        print(
            f"Spark ({len(spark)} exercises): slowest warm re-check {worst[3]:.2f} s ({worst[0]})"
        )


if __name__ == "__main__":
    sys.exit(main())
