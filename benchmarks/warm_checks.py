"""How long does a learner wait for a check? Not a test: a measurement.

    uv run python benchmarks/warm_checks.py [--all] [--repeat 3] [module_NN/exKK_slug ...]

For the first exercise of each module (``--all``: every exercise; or the ones
named), measured one after the other in one run on this machine:

    import mlflow   ``python -c "import mlflow"``: the floor of any cold start
    pytest          ``python -m pytest exercises/module_NN/test_exKK_slug.py``, a new process
    kata check      ``kata check module_NN/exKK_slug --force``, a new process
    warm            the re-check that ``kata watch`` runs after a save: a fork of its warm
                    worker (the first check of an exercise also imports its libraries
                    into the worker and is not counted)

Each figure is the median of ``--repeat`` runs, in seconds. The reference
solution is what gets checked (every test runs; an untouched stub would stop
at its first test), in a throw-away copy of the kata: your files are never
touched. Exercises whose tests use Spark are marked; they are not expected
to answer within a second.
"""

from __future__ import annotations

import argparse
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

from checker.check import CheckOptions, check_one  # noqa: E402
from checker.manifest import Exercise, KataPaths, load_manifest  # noqa: E402
from checker.warm import WarmWorker, imports_of  # noqa: E402

COPIED = ["checker", "fixtures", "exercises", "solutions", "conftest.py", "pyproject.toml"]


def copy_of_the_kata(folder: Path, exercises: list[Exercise]) -> KataPaths:
    """The kata in ``folder``, with the reference solution in place of each stub."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, folder / name)
    kata = KataPaths(folder)
    for exercise in exercises:
        shutil.copy2(kata.solution(exercise), kata.stub(exercise))
    return kata


def timed(command: list[str], cwd: Path) -> tuple[float, bool]:
    """Seconds that ``command`` took, and whether it succeeded."""
    start = time.perf_counter()
    ran = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, ran.returncode == 0


def median_of(repeat: int, measure: Callable[[], tuple[float, bool]]) -> tuple[float, bool]:
    """The median time of ``repeat`` measurements, and whether every one succeeded."""
    results = [measure() for _ in range(repeat)]
    return statistics.median(t for t, _ok in results), all(ok for _t, ok in results)


def warm_check(kata: KataPaths, exercise: Exercise, worker: WarmWorker) -> tuple[float, bool]:
    """What ``kata watch`` does after a save: check the exercise in a fork of the worker."""
    start = time.perf_counter()
    result = check_one(kata, exercise, CheckOptions(force=True), run=worker.run)
    return time.perf_counter() - start, result.ok


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


def measure(kata: KataPaths, exercise: Exercise, worker: WarmWorker, repeat: int):
    """(pytest, kata check, warm re-check) medians of one exercise, and whether all passed."""
    python, root = sys.executable, kata.root
    test = str(kata.test_file(exercise).relative_to(root))
    pytest = [python, "-m", "pytest", "-q", test]
    pytest_s, pytest_ok = median_of(repeat, lambda: timed(pytest, root))
    check = [python, "-m", "checker.cli", "--root", str(root), "check", exercise.id, "--force"]
    check_s, check_ok = median_of(repeat, lambda: timed(check, root))
    worker.warm(imports_of(kata, exercise))
    warm_check(kata, exercise, worker)  # the first check after the exercise's imports
    warm_s, warm_ok = median_of(repeat, lambda: warm_check(kata, exercise, worker))
    return (pytest_s, check_s, warm_s), pytest_ok and check_ok and warm_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="exercises to measure (one per module)")
    parser.add_argument("--all", action="store_true", help="measure every exercise")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (3)")
    args = parser.parse_args(argv)

    exercises = chosen(load_manifest(KataPaths(ROOT)), args.exercises, args.all)
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as tmp:
        kata = copy_of_the_kata(Path(tmp), exercises)
        import_mlflow, _ = median_of(
            args.repeat, lambda: timed([sys.executable, "-c", "import mlflow"], kata.root)
        )
        print(f"python -c 'import mlflow': {import_mlflow:.2f} s (median of {args.repeat})")
        start = time.perf_counter()
        worker = WarmWorker(kata).start()
        worker.warm([])  # answers once the base modules are loaded
        print(f"warm worker ready in {time.perf_counter() - start:.2f} s (once per watch)\n")

        header = f"{'exercise':<40} {'pytest':>7} {'check':>7} {'warm':>7} {'pytest/import':>14}"
        print(header)
        print("-" * len(header))
        slow = []
        try:
            for exercise in exercises:
                (pytest_s, check_s, warm_s), ok = measure(kata, exercise, worker, args.repeat)
                spark = uses_spark(kata, exercise)
                notes = ("  spark" if spark else "") + ("" if ok else "  (a check failed!)")
                print(
                    f"{exercise.id:<40} {pytest_s:7.2f} {check_s:7.2f} {warm_s:7.2f} "
                    f"{pytest_s / import_mlflow:13.1f}x{notes}",
                    flush=True,
                )
                if warm_s >= 1.0 and not spark:
                    slow.append(exercise.id)
        finally:
            worker.stop()
    print()
    if slow:
        print(f"warm re-checks of 1 s or more without Spark: {', '.join(slow)}")
    else:
        print("every warm re-check without Spark answered in under 1 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
