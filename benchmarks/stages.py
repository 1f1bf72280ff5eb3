"""Timing the stages of a benchmark, in classic Spark and over Spark Connect, side by side.

    runs = {"local": measure(run)}
    runs["spark connect"] = over_spark_connect("local", scratch, run)
    print_side_by_side(runs)

``run(timed)`` calls ``timed(stage, fn, describe)`` for each stage it measures.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def measure(run) -> list[tuple[str, float, str]]:
    """Run ``run(timed)``; return each stage's (name, seconds, details)."""
    timings: list[tuple[str, float, str]] = []

    def timed(stage: str, fn, describe=lambda result: ""):
        print(f"{stage} ...", flush=True)
        start = time.perf_counter()
        result = fn()
        timings.append((stage, time.perf_counter() - start, describe(result)))
        return result

    run(timed)
    return timings


def over_spark_connect(remote: str, scratch: Path, run) -> list[tuple[str, float, str]]:
    """``measure(run)`` with ``SPARK_REMOTE`` at ``remote``, or at a local Spark Connect
    server started (and timed) for it when ``remote`` is "local"."""
    from checker.services import SparkConnectServer

    server = None
    timings: list[tuple[str, float, str]] = []
    if remote == "local":
        start = time.perf_counter()
        server = SparkConnectServer(scratch / "spark-connect")
        server.start()
        timings.append(("server", time.perf_counter() - start, "local Spark Connect server"))
        remote = server.remote
    os.environ["SPARK_REMOTE"] = remote
    try:
        return timings + measure(run)
    finally:
        del os.environ["SPARK_REMOTE"]
        if server is not None:
            server.stop()


def print_side_by_side(runs: dict[str, list[tuple[str, float, str]]]) -> None:
    modes = list(runs)
    stages = list(dict.fromkeys(stage for timings in runs.values() for stage, _, _ in timings))
    seconds = {mode: {stage: s for stage, s, _ in runs[mode]} for mode in modes}
    details = {stage: d for timings in runs.values() for stage, _, d in timings}
    print()
    print(f"{'stage':<10}" + "".join(f"{mode:>15}" for mode in modes) + "  details")
    for stage in stages:
        cells = "".join(
            f"{seconds[m][stage]:>15.2f}" if stage in seconds[m] else f"{'-':>15}" for m in modes
        )
        print(f"{stage:<10}{cells}  {details[stage]}")
    totals = "".join(f"{sum(seconds[m].values()):>15.2f}" for m in modes)
    print(f"{'total':<10}{totals}")
