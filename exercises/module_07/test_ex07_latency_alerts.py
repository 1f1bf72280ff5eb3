"""Checks for ex07_latency_alerts: latency per hour, a window of traffic, alerts, a chart."""

import contextlib

import mlflow
import numpy as np
import pytest
from mlflow.entities import AssessmentSource

from fixtures.clock import frozen_clock

DAY = "2025-06-02"
NINE_LATENCIES = [100, 200, 300, 400, 1000]
TEN_LATENCIES = [200, 200, 200, 3000, 4000]  # the last two fail


class UpstreamTimeout(RuntimeError):
    pass


@mlflow.trace(name="handle_request")
def _handle(clock, latency_ms: int, fail: bool) -> str:
    clock.tick(latency_ms / 1000)  # the request takes exactly latency_ms
    if fail:
        raise UpstreamTimeout("the LLM did not answer in time")
    return "ok"


def _serve(clock, start: str, latencies: list[int], failing: set[int]) -> list[str]:
    """One request a minute from ``start``; returns the trace ids."""
    clock.move_to(f"{DAY} {start}")
    trace_ids = []
    for number, latency in enumerate(latencies):
        with contextlib.suppress(UpstreamTimeout):
            _handle(clock, latency, number in failing)
        trace_ids.append(mlflow.get_last_active_trace_id())
        clock.tick(60)
    return trace_ids


def _thumb(trace_id: str, up: bool) -> None:
    source = AssessmentSource(source_type="HUMAN", source_id="user")
    mlflow.log_feedback(trace_id=trace_id, name="user_thumbs_up", value=up, source=source)


@pytest.fixture
def traffic():
    """Five requests from 09:05 (100 to 1000 ms, all fine, no feedback); five from 10:10
    (three of 200 ms, then 3000 and 4000 ms, which fail); four thumbs on the 10:xx
    requests, two of them down; and an LLM judge's verdicts, which are not user feedback."""
    with frozen_clock(f"{DAY} 09:00:00") as clock:
        _serve(clock, "09:05:00", NINE_LATENCIES, failing=set())
        ten = _serve(clock, "10:10:00", TEN_LATENCIES, failing={3, 4})
    for trace_id, up in zip(ten[:4], [True, False, True, False], strict=True):
        _thumb(trace_id, up)
    judge = AssessmentSource(source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini")
    for trace_id in ten[2:]:
        mlflow.log_feedback(trace_id=trace_id, name="user_thumbs_up", value=False, source=judge)


def at(time_of_day: str):
    """The clock stopped at ``time_of_day`` on DAY, while the code under test runs."""
    return frozen_clock(f"{DAY} {time_of_day}")


def test_latency_by_hour_gives_requests_p50_and_p95_per_hour(exercise, traffic):
    report = exercise.latency_by_hour()

    got = {hour: (s.requests, round(s.p50_ms, 1), round(s.p95_ms, 1)) for hour, s in report.items()}
    expected = {
        f"{DAY} 09:00": (5, *np.percentile(NINE_LATENCIES, [50, 95]).round(1)),
        f"{DAY} 10:00": (5, *np.percentile(TEN_LATENCIES, [50, 95]).round(1)),
    }
    expected = {hour: tuple(float(x) for x in v) for hour, v in expected.items()}
    got = {hour: tuple(float(x) for x in v) for hour, v in got.items()}
    assert got == expected, (
        f"expected (requests, p50_ms, p95_ms) per UTC hour {expected}; got {got}. A request "
        "belongs to the hour it started in; latency is trace.info.execution_duration; "
        "percentiles as numpy.percentile computes them."
    )


def test_window_stats_count_only_the_requests_of_the_last_minutes(exercise, traffic):
    with at("10:30:00"):
        stats = exercise.window_stats(window_minutes=60)

    got = (stats.requests, stats.errors, round(stats.error_rate, 3), round(stats.p95_ms, 1))
    expected = (5, 2, 0.4, round(float(np.percentile(TEN_LATENCIES, 95)), 1))
    assert got == expected, (
        f"expected at 10:30 the last hour's (requests, errors, error_rate, p95_ms) to be "
        f"{expected}: only the five requests from 10:10; got {got}. 'Now' is time.time() "
        "(the test freezes it)."
    )


def test_window_stats_count_user_feedback_only(exercise, traffic):
    with at("10:30:00"):
        stats = exercise.window_stats(window_minutes=60)

    got = (stats.feedback, stats.negative_feedback, stats.negative_feedback_rate)
    assert got == (4, 2, 0.5), (
        f"expected 4 user thumbs, 2 of them down (rate 0.5) in the window; got {got}. Count "
        "only HUMAN feedback named 'user_thumbs_up': the LLM judge's verdicts are not users."
    )


def test_a_quiet_window_has_zero_rates(exercise, traffic):
    with at("12:00:00"):
        stats = exercise.window_stats(window_minutes=30)

    got = (stats.requests, stats.error_rate, stats.p95_ms, stats.negative_feedback_rate)
    assert got == (0, 0.0, 0.0, 0.0), (
        f"expected an empty window at 12:00 (last requests at 10:14) to give zeros; got {got}"
    )


def test_alerts_fire_for_every_threshold_crossed_in_the_window(exercise, traffic):
    with at("10:30:00"):
        alerts = exercise.check_alerts()

    got = [(a.metric, round(a.value, 3), a.threshold) for a in alerts]
    p95 = round(float(np.percentile(TEN_LATENCIES, 95)), 3)
    expected = [
        ("p95_ms", p95, 2000.0),
        ("error_rate", 0.4, 0.05),
        ("negative_feedback_rate", 0.5, 0.25),
    ]
    assert got == expected, (
        f"expected at 10:30, with the default Thresholds, the alerts {expected}; got {got}"
    )


def test_no_alert_fires_for_a_healthy_window(exercise, traffic):
    with at("09:30:00"):
        alerts = exercise.check_alerts()

    assert alerts == [], (
        f"expected no alert at 09:30 (the 09:05 requests: p95 880 ms, no error, no "
        f"feedback); got {alerts}"
    )


def test_an_alert_fires_only_when_a_value_is_above_its_threshold(exercise, traffic):
    rules = exercise.Thresholds(max_p95_ms=5000, max_error_rate=0.4, max_negative_feedback_rate=0.4)
    with at("10:30:00"):
        alerts = exercise.check_alerts(rules)

    assert [a.metric for a in alerts] == ["negative_feedback_rate"], (
        f"expected only negative_feedback_rate (0.5 > 0.4) to fire: p95 is below 5000 and an "
        f"error rate equal to its maximum (0.4) does not cross it; got {alerts}"
    )


def test_plot_latency_writes_a_png_chart(exercise, traffic, tmp_path):
    target = tmp_path / "charts" / "latency.png"
    target.parent.mkdir()

    written = exercise.plot_latency(target)

    assert target.is_file(), f"expected a file at {target}; plot_latency returned {written!r}"
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", (
        f"expected a PNG file (it starts with the PNG signature); it starts with {data[:8]!r}"
    )
    assert len(data) > 5_000, f"expected a real chart, not an empty image: {len(data)} bytes"
