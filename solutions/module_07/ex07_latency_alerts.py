"""Reference solution for module_07/ex07_latency_alerts: percentiles, windows, alerts, a chart."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
from matplotlib.figure import Figure
from mlflow.entities import Trace

FEEDBACK_NAME = "user_thumbs_up"
HOUR_FORMAT = "%Y-%m-%d %H:00"  # hours in UTC, e.g. "2025-06-02 09:00"


@dataclass
class LatencyStats:
    """Latency of the requests of one hour, in milliseconds."""

    requests: int
    p50_ms: float
    p95_ms: float


@dataclass
class WindowStats:
    """What happened in the last minutes."""

    requests: int = 0
    errors: int = 0
    error_rate: float = 0.0
    p95_ms: float = 0.0
    feedback: int = 0
    negative_feedback: int = 0
    negative_feedback_rate: float = 0.0


@dataclass
class Thresholds:
    """The alerting rules: an alert fires when a value is strictly above its maximum."""

    max_p95_ms: float = 2000.0
    max_error_rate: float = 0.05
    max_negative_feedback_rate: float = 0.25


@dataclass
class Alert:
    """One rule broken: ``metric`` is ``p95_ms``, ``error_rate`` or ``negative_feedback_rate``."""

    metric: str
    value: float
    threshold: float


def _traces(experiment_id: str | None, **kwargs) -> list[Trace]:
    locations = [experiment_id] if experiment_id else None
    return mlflow.search_traces(
        locations=locations, return_type="list", include_spans=False, **kwargs
    )


def _state(trace: Trace) -> str:
    state = trace.info.state
    return str(getattr(state, "value", state))  # "OK", "ERROR" or "IN_PROGRESS"


def _percentiles(durations: list[float]) -> tuple[float, float]:
    if not durations:
        return 0.0, 0.0
    p50, p95 = np.percentile(durations, [50, 95])  # linear interpolation, numpy's default
    return float(p50), float(p95)


def latency_by_hour(experiment_id: str | None = None) -> dict[str, LatencyStats]:
    """Requests, p50 and p95 latency per hour of the traces (``experiment_id=None``: the
    current experiment).

    A trace belongs to the hour (UTC) its request started in (``trace.info.request_time``,
    milliseconds since the epoch), formatted with ``HOUR_FORMAT``; its latency is
    ``trace.info.execution_duration`` (milliseconds). Percentiles are
    ``numpy.percentile``'s (linear interpolation).
    """
    durations: dict[str, list[float]] = defaultdict(list)
    for trace in _traces(experiment_id):
        started = datetime.fromtimestamp(trace.info.request_time / 1000, tz=UTC)
        durations[started.strftime(HOUR_FORMAT)].append(trace.info.execution_duration or 0)
    report = {}
    for hour in sorted(durations):
        p50, p95 = _percentiles(durations[hour])
        report[hour] = LatencyStats(len(durations[hour]), p50, p95)
    return report


def window_stats(window_minutes: int = 60, experiment_id: str | None = None) -> WindowStats:
    """Requests, errors (traces in state ERROR), p95 latency and user feedback of the
    requests that started in the last ``window_minutes`` (up to ``time.time()``, now).

    User feedback is the HUMAN feedback named ``FEEDBACK_NAME`` on those traces; a
    negative one has the value False. Rates are 0.0 when there is nothing to divide.
    """
    now_ms = time.time() * 1000  # the tests freeze the clock: never cache "now"
    start_ms = now_ms - window_minutes * 60_000
    in_window = [
        trace
        for trace in _traces(experiment_id, filter_string=f"trace.timestamp_ms > {int(start_ms)}")
        if start_ms < trace.info.request_time <= now_ms
    ]
    stats = WindowStats(requests=len(in_window))
    stats.errors = sum(_state(trace) == "ERROR" for trace in in_window)
    _, stats.p95_ms = _percentiles([t.info.execution_duration or 0 for t in in_window])
    for trace in in_window:
        for item in trace.info.assessments or []:
            source = item.source.source_type if item.source else None
            if item.name == FEEDBACK_NAME and item.feedback is not None and source == "HUMAN":
                stats.feedback += 1
                stats.negative_feedback += item.feedback.value is False
    if stats.requests:
        stats.error_rate = stats.errors / stats.requests
    if stats.feedback:
        stats.negative_feedback_rate = stats.negative_feedback / stats.feedback
    return stats


def check_alerts(
    thresholds: Thresholds | None = None,
    window_minutes: int = 60,
    experiment_id: str | None = None,
) -> list[Alert]:
    """The alerts for the last ``window_minutes``: one ``Alert`` per rule of
    ``thresholds`` (default ``Thresholds()``) whose value is strictly above its maximum,
    in the order p95_ms, error_rate, negative_feedback_rate."""
    rules = thresholds or Thresholds()
    stats = window_stats(window_minutes, experiment_id)
    checks = [
        ("p95_ms", stats.p95_ms, rules.max_p95_ms),
        ("error_rate", stats.error_rate, rules.max_error_rate),
        ("negative_feedback_rate", stats.negative_feedback_rate, rules.max_negative_feedback_rate),
    ]
    return [Alert(metric, value, limit) for metric, value, limit in checks if value > limit]


def plot_latency(path: str | Path, experiment_id: str | None = None) -> Path:
    """Draw p50 and p95 latency per hour (``latency_by_hour``) as a line chart and save it
    as a PNG file at ``path``; return the path.

    Draw with matplotlib's ``Figure`` (or the ``Agg`` backend): no window opens, and it
    works on a server without a display.
    """
    report = latency_by_hour(experiment_id)
    hours = list(report)
    figure = Figure(figsize=(8, 4), dpi=100)  # an Agg figure: no GUI, safe in threads
    axes = figure.subplots()
    axes.plot(hours, [s.p50_ms for s in report.values()], marker="o", label="p50")
    axes.plot(hours, [s.p95_ms for s in report.values()], marker="o", label="p95")
    axes.set_title("Request latency per hour")
    axes.set_xlabel("hour (UTC)")
    axes.set_ylabel("milliseconds")
    axes.legend()
    figure.autofmt_xdate()
    target = Path(path)
    figure.savefig(target, format="png")
    return target
