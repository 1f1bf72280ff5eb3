"""Checks for ex07_latency_alerts: latency per hour, a window of traffic, alerts, a chart."""

import contextlib

import mlflow
import numpy as np
import pytest
from matplotlib.figure import Figure
from mlflow.entities import AssessmentSource

from fixtures.clock import frozen_clock
from fixtures.messages import shown

DAY = "2025-06-02"
NINE_LATENCIES = [100, 200, 300, 400, 1000]
TEN_LATENCIES = [200, 200, 200, 3000, 4000]  # the last two fail


class UpstreamTimeout(RuntimeError):
    pass


def _serve(clock, start: str, latencies: list[int], failing: set[int]) -> list[str]:
    """One request a minute from ``start``; returns the trace ids."""

    @mlflow.trace(name="handle_request")
    def handle(latency_ms: int, fail: bool) -> str:  # the clock stays out of the span
        clock.tick(latency_ms / 1000)  # the request takes exactly latency_ms
        if fail:
            raise UpstreamTimeout("the LLM did not answer in time")
        return "ok"

    clock.move_to(f"{DAY} {start}")
    trace_ids = []
    for number, latency in enumerate(latencies):
        with contextlib.suppress(UpstreamTimeout):
            handle(latency, number in failing)
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
    requests, two of them down; and an LLM judge's verdicts and a human "resolved" mark,
    which are not user thumbs."""
    with frozen_clock(f"{DAY} 09:00:00") as clock:
        _serve(clock, "09:05:00", NINE_LATENCIES, failing=set())
        ten = _serve(clock, "10:10:00", TEN_LATENCIES, failing={3, 4})
    for trace_id, up in zip(ten[:4], [True, False, True, False], strict=True):
        _thumb(trace_id, up)
    judge = AssessmentSource(source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini")
    for trace_id in ten[2:]:
        mlflow.log_feedback(trace_id=trace_id, name="user_thumbs_up", value=False, source=judge)
    support = AssessmentSource(source_type="HUMAN", source_id="support-desk")
    mlflow.log_feedback(trace_id=ten[4], name="resolved", value=False, source=support)


def fields_of(item, *names) -> tuple:
    """The named attributes of what the learner's code returned (None where missing),
    numbers rounded to 3 decimals."""
    values = (getattr(item, name, None) for name in names)
    return tuple(round(float(v), 3) if isinstance(v, int | float) else v for v in values)


def items_of(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def at(time_of_day: str):
    """The clock stopped at ``time_of_day`` on DAY, while the code under test runs."""
    return frozen_clock(f"{DAY} {time_of_day}")


def test_latency_by_hour_gives_requests_p50_and_p95_per_hour(exercise, traffic):
    report = exercise.latency_by_hour()

    assert isinstance(report, dict), f"expected a dict of LatencyStats by hour; got {shown(report)}"
    got = {hour: fields_of(s, "requests", "p50_ms", "p95_ms") for hour, s in report.items()}
    expected = {
        f"{DAY} 09:00": (5, *np.percentile(NINE_LATENCIES, [50, 95]).round(3)),
        f"{DAY} 10:00": (5, *np.percentile(TEN_LATENCIES, [50, 95]).round(3)),
    }
    expected = {hour: tuple(float(x) for x in v) for hour, v in expected.items()}
    assert got == expected, (
        f"expected (requests, p50_ms, p95_ms) per UTC hour {expected}; got {got}. A request "
        "belongs to the hour it started in; latency is trace.info.execution_duration; "
        "percentiles as numpy.percentile computes them."
    )


def test_a_request_belongs_to_the_hour_it_started_in(exercise):
    with frozen_clock(f"{DAY} 10:00:00") as clock:
        _serve(clock, "10:59:59", [2000], failing=set())  # ends at 11:00:01

    report = exercise.latency_by_hour()

    got = {hour: getattr(s, "requests", s) for hour, s in (report or {}).items()}
    assert got == {f"{DAY} 10:00": 1}, (
        f"expected the request that started at 10:59:59 and ended at 11:00:01 in the hour "
        f"'{DAY} 10:00' (the hour it started in); got requests per hour {shown(got)}"
    )


def test_window_stats_count_only_the_requests_of_the_last_minutes(exercise, traffic):
    with at("10:30:00"):
        stats = exercise.window_stats(window_minutes=60)

    got = fields_of(stats, "requests", "errors", "error_rate", "p95_ms")
    expected = (5, 2, 0.4, round(float(np.percentile(TEN_LATENCIES, 95)), 3))
    assert got == expected, (
        f"expected at 10:30 the last hour's (requests, errors, error_rate, p95_ms) to be "
        f"{expected}: only the five requests from 10:10; got {got}. 'Now' is time.time() "
        "(the test freezes it)."
    )


def test_window_stats_leave_out_requests_that_start_after_now(exercise, traffic):
    with at("10:12:30"):
        stats = exercise.window_stats(window_minutes=60)

    got = (getattr(stats, "requests", None), getattr(stats, "errors", None))
    assert got == (3, 0), (
        f"expected at 10:12:30 (requests, errors) == (3, 0): the requests of 10:10, 10:11 and "
        f"10:12, and none of those that start later (10:13 and 10:14, which fail); got "
        f"{shown(got)}. The window ends at now, time.time()."
    )


def test_window_stats_count_user_feedback_only(exercise, traffic):
    with at("10:30:00"):
        stats = exercise.window_stats(window_minutes=60)

    got = fields_of(stats, "feedback", "negative_feedback", "negative_feedback_rate")
    assert got == (4, 2, 0.5), (
        f"expected 4 user thumbs, 2 of them down (rate 0.5) in the window; got {got}. Count "
        "only HUMAN feedback named 'user_thumbs_up': the LLM judge's verdicts are not users, "
        "and a human 'resolved' mark is not a thumb."
    )


def test_a_quiet_window_has_zero_rates(exercise, traffic):
    with at("12:00:00"):
        stats = exercise.window_stats(window_minutes=30)

    got = fields_of(stats, "requests", "error_rate", "p95_ms", "negative_feedback_rate")
    assert got == (0, 0.0, 0.0, 0.0), (
        f"expected an empty window at 12:00 (last requests at 10:14) to give zeros; got {got}"
    )


def test_alerts_fire_for_every_threshold_crossed_in_the_window(exercise, traffic):
    with at("10:30:00"):
        alerts = exercise.check_alerts()

    got = [fields_of(a, "metric", "value", "threshold") for a in items_of(alerts)]
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

    assert [getattr(a, "metric", a) for a in items_of(alerts)] == ["negative_feedback_rate"], (
        f"expected only negative_feedback_rate (0.5 > 0.4) to fire: p95 is below 5000 and an "
        f"error rate equal to its maximum (0.4) does not cross it; got {alerts}"
    )


def test_alerts_watch_the_given_experiment_even_when_another_is_active(exercise, traffic):
    served = mlflow.get_experiment_by_name("Default").experiment_id
    mlflow.set_experiment("ex07-another-service")
    with at("10:30:00"):
        alerts = exercise.check_alerts(experiment_id=served)

    got = [getattr(a, "metric", a) for a in items_of(alerts)]
    assert got == ["p95_ms", "error_rate", "negative_feedback_rate"], (
        f"expected check_alerts(experiment_id=...) to watch that experiment's requests (all three "
        f"rules break at 10:30) while another experiment is active; got {shown(alerts)}"
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


def test_plot_latency_draws_p50_and_p95_per_hour(exercise, traffic, tmp_path, monkeypatch):
    saved = []
    savefig = Figure.savefig

    def keep(figure, *args, **kwargs):  # pyplot's savefig ends here too
        saved.append(figure)
        return savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    exercise.plot_latency(tmp_path / "latency.png")

    drawn = []
    for figure in saved:
        for axes in figure.axes:
            for line in axes.get_lines():
                try:
                    drawn.append([round(float(y), 1) for y in line.get_ydata()])
                except (TypeError, ValueError):
                    drawn.append(line.get_ydata())
    wanted = {
        name: [round(float(np.percentile(hour, q)), 1) for hour in (NINE_LATENCIES, TEN_LATENCIES)]
        for name, q in (("p50", 50), ("p95", 95))
    }
    missing = [name for name, values in wanted.items() if values not in drawn]
    assert not missing, (
        f"expected a line for p50 {wanted['p50']} and one for p95 {wanted['p95']} (ms, the hours "
        f"in order); the saved chart's lines have the values {shown(drawn)}"
    )
