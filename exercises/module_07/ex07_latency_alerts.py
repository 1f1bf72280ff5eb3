"""Exercise 7: latency and alerts, percentiles per hour, a watched window, and a chart.

Averages hide the requests that hurt: watch percentiles. p50 is the typical request,
p95 is the slow one in twenty that users remember. Every trace carries when its request
started (``trace.info.request_time``) and how long it took
(``trace.info.execution_duration``), whether it failed (``trace.info.state``) and what
users thought of it (its feedback): that is all a small monitor needs.

Build:

1. ``latency_by_hour()``: requests, p50 and p95 per hour.
2. ``window_stats(window_minutes)``: requests, error rate, p95 and the share of negative
   user feedback over the last minutes, up to *now* (``time.time()``).
3. ``check_alerts(thresholds, window_minutes)``: an ``Alert`` for each rule the window
   breaks.
4. ``plot_latency(path)``: a PNG chart of p50 and p95 per hour, for people who would
   rather look than read.

MLflow APIs practised: ``mlflow.search_traces(locations=, filter_string=
"trace.timestamp_ms > ...", include_spans=False)``, ``TraceInfo.request_time``,
``execution_duration``, ``state``, ``assessments``.

The tests stop the clock (freezegun): read "now" with ``time.time()`` each time you need
it, never once at import.

Done looks like this: run ``check_alerts()`` every minute (a cron job, a scheduler)
and send its alerts to your pager; put the chart in the daily report.

Run the checks: ``uv run pytest exercises/module_07/test_ex07_latency_alerts.py``
"""

from __future__ import annotations

import time  # noqa: F401
from collections import defaultdict  # noqa: F401
from dataclasses import dataclass
from datetime import UTC, datetime  # noqa: F401
from pathlib import Path

import mlflow
import numpy as np  # noqa: F401 - you will need these
from matplotlib.figure import Figure  # noqa: F401
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


def latency_by_hour(experiment_id: str | None = None) -> dict[str, LatencyStats]:
    """Requests, p50 and p95 latency per hour of the traces (``experiment_id=None``: the
    current experiment).

    A trace belongs to the hour (UTC) its request started in (``trace.info.request_time``,
    milliseconds since the epoch), formatted with ``HOUR_FORMAT``; its latency is
    ``trace.info.execution_duration`` (milliseconds). Percentiles are
    ``numpy.percentile``'s (linear interpolation).
    """
    # TODO: search the traces (private helper: _traces), group their durations by the
    #       hour they started in (datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(...)),
    #       then requests and numpy.percentile(durations, [50, 95]) per hour.
    raise NotImplementedError("latency_by_hour: not written yet (see the TODO above)")


def window_stats(window_minutes: int = 60, experiment_id: str | None = None) -> WindowStats:
    """Requests, errors (traces in state ERROR), p95 latency and user feedback of the
    requests that started in the last ``window_minutes`` (up to ``time.time()``, now).

    User feedback is the HUMAN feedback named ``FEEDBACK_NAME`` on those traces; a
    negative one has the value False. Rates are 0.0 when there is nothing to divide.
    """
    # TODO: now = time.time(); keep the traces that started in (now - window, now];
    #       count errors (_state), the p95 of their durations, and their user thumbs.
    raise NotImplementedError("window_stats: not written yet (see the TODO above)")


def check_alerts(
    thresholds: Thresholds | None = None,
    window_minutes: int = 60,
    experiment_id: str | None = None,
) -> list[Alert]:
    """The alerts for the last ``window_minutes``: one ``Alert`` per rule of
    ``thresholds`` (default ``Thresholds()``) whose value is strictly above its maximum,
    in the order p95_ms, error_rate, negative_feedback_rate."""
    # TODO: compare window_stats(...) with the thresholds, in the documented order.
    raise NotImplementedError("check_alerts: not written yet (see the TODO above)")


def plot_latency(path: str | Path, experiment_id: str | None = None) -> Path:
    """Draw p50 and p95 latency per hour (``latency_by_hour``) as a line chart and save it
    as a PNG file at ``path``; return the path.

    Draw with matplotlib's ``Figure`` (or the ``Agg`` backend): no window opens, and it
    works on a server without a display.
    """
    # TODO: figure = Figure(); axes = figure.subplots(); plot p50 and p95 against the
    #       hours of latency_by_hour(); label it; figure.savefig(path, format="png").
    raise NotImplementedError("plot_latency: not written yet (see the TODO above)")
