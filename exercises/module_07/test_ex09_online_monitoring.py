"""Checks for ex09_online_monitoring: judges registered and started on a real ``mlflow server``
(one per test session, with its job runner on), run on production traces, and the quality
alert. Each test works in an experiment of its own.

The server's scheduler runs its scoring pass about once a minute. The tests that check what
a pass does with the judges run that same pass at once with the kit's
``run_online_scoring_pass`` (the same code, store, sampling and gateway); one test waits for
the server's own scheduler instead.
"""

from __future__ import annotations

import json
import time
import uuid

import mlflow
import pytest
from mlflow.entities import AssessmentSource, Feedback
from mlflow.entities.assessment_error import AssessmentError

from fixtures.gateway_server import (
    nudge_online_scoring,
    online_sample,
    run_online_scoring_pass,
    stop_online_scoring,
    wait_for_online_scoring,
)
from fixtures.judges import verdict
from fixtures.messages import shown

# The model of hand-logged verdicts (the tests that score for real use the kit's endpoint).
JUDGE = "gateway:/judge"
FILTER = "tags.env = 'production'"
GOOD, BAD = "Aliases replaced registry stages.", "It is broken, ask someone else."
# RACE: the server's own scheduler may run a pass at any moment once a judge is started. A
# pass that ran while traces were being written could move the experiment's checkpoint past
# a trace it did not see, so the tests write their traces before they start the judges.
# A trace judged twice (by the server's pass and the test's) is fine for these tests.


@pytest.fixture
def production(gateway_mlflow_server, gateway_judge, fake_llm_server, monkeypatch):
    """A fresh experiment on the session's server, active and set as the tracking URI; the
    fake judge model says "no" to BAD answers and "yes" otherwise. Afterwards every judge
    of the experiment is stopped and the server's jobs on it are waited for."""
    fake_llm_server.responder = lambda r: verdict("no" if BAD in json.dumps(r.body) else "yes")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", gateway_mlflow_server.url)
    experiment_id = mlflow.set_experiment(f"production-{uuid.uuid4().hex[:12]}").experiment_id
    yield experiment_id
    stop_online_scoring(gateway_mlflow_server, experiment_id)


def log_requests(answers: dict[str, str], env: str = "production") -> list[str]:
    """The production app: one trace per question, tagged with its environment."""
    trace_ids = []
    for question, answer in answers.items():
        with mlflow.start_span(name="support_agent", span_type="AGENT") as span:
            span.set_inputs({"question": question})
            span.set_outputs(answer)
            mlflow.update_current_trace(tags={"env": env})
        trace_ids.append(span.trace_id)
    return trace_ids


def verdicts(trace_id: str, name: str) -> list:
    return [a for a in mlflow.get_trace(trace_id).info.assessments if a.name == name]


def scorer_settings(experiment_id: str) -> dict:
    from mlflow.genai.scorers import list_scorers

    return {
        s.name: (s.sample_rate, s.filter_string, getattr(s, "model", None))
        for s in list_scorers(experiment_id=experiment_id)
    }


def log_verdict(trace_id: str, name: str, value=None, error=None, source_type="LLM_JUDGE"):
    """A verdict on ``trace_id``, logged at a later millisecond than the previous one."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        pass
    mlflow.log_assessment(
        trace_id=trace_id,
        assessment=Feedback(
            name=name,
            value=value,
            error=error,
            source=AssessmentSource(source_type=source_type, source_id=JUDGE),
        ),
    )


def failed_call() -> AssessmentError:
    return AssessmentError(error_code="JUDGE_FAILED", error_message="the judge model refused")


# --- what is registered on the server ----------------------------------------------------------


def test_relevance_judges_every_production_trace_through_the_gateway(
    exercise, production, gateway_judge
):
    exercise.start_monitoring(production, gateway_judge)

    settings, judge = scorer_settings(production), f"gateway:/{gateway_judge}"
    assert settings.get("relevance") == (1.0, FILTER, judge), (
        f"expected 'relevance' started at sample rate 1.0 on {FILTER!r} with model {judge!r}, "
        f"as (sample_rate, filter_string, model); found {settings}"
    )


def test_tone_judges_a_quarter_of_production_traces_with_its_instructions(
    exercise, production, gateway_judge
):
    exercise.start_monitoring(production, gateway_judge)

    settings, judge = scorer_settings(production), f"gateway:/{gateway_judge}"
    assert settings.get("tone") == (0.25, FILTER, judge), (
        f"expected 'tone' started at sample rate 0.25 on {FILTER!r} with model {judge!r}, as "
        f"(sample_rate, filter_string, model); found {settings}"
    )
    from mlflow.genai.scorers import get_scorer

    tone = get_scorer(name="tone", experiment_id=production)
    instructions = getattr(tone, "instructions", None)
    assert instructions == exercise.TONE_INSTRUCTIONS, (
        f"expected the 'tone' judge made with TONE_INSTRUCTIONS; found {shown(instructions)}"
    )


def test_start_monitoring_returns_the_started_judges_relevance_first(
    exercise, production, gateway_judge
):
    started = exercise.start_monitoring(production, gateway_judge)

    found = [(getattr(s, "name", None), getattr(s, "sample_rate", None)) for s in started or []]
    assert found == [("relevance", 1.0), ("tone", 0.25)], (
        f"expected the two started judges [('relevance', 1.0), ('tone', 0.25)] as (name, "
        f"sample_rate); got {shown(found)}"
    )


# --- what the server's scoring pass does with them ---------------------------------------------


def test_the_server_judges_production_traces_and_leaves_the_others(
    exercise, gateway_mlflow_server, production, gateway_judge
):
    prod = log_requests({f"question {i}?": BAD if i % 3 == 0 else GOOD for i in range(6)})
    staging = log_requests({"staging question?": GOOD}, env="staging")
    exercise.start_monitoring(production, gateway_judge)  # after the traces: see RACE

    run_online_scoring_pass(gateway_mlflow_server, production)

    judge = f"gateway:/{gateway_judge}"
    for trace_id in prod:
        found = {
            (a.source.source_type, a.source.source_id) for a in verdicts(trace_id, "relevance")
        }
        assert found == {("LLM_JUDGE", judge)}, (
            f"expected a 'relevance' verdict from {judge} on production trace {trace_id}; "
            f"found (source, model) {found}"
        )
    leaked = {t: [a.name for a in mlflow.get_trace(t).info.assessments] for t in staging}
    assert not any(leaked.values()), f"expected no verdict on staging traces; found {leaked}"


def test_the_server_runs_tone_only_on_its_sample(
    exercise, gateway_mlflow_server, production, gateway_judge
):
    prod = log_requests({f"tone question {i}?": GOOD for i in range(8)})
    exercise.start_monitoring(production, gateway_judge)  # after the traces: see RACE

    run_online_scoring_pass(gateway_mlflow_server, production)

    judged = {t for t in prod if verdicts(t, "tone")}
    expected = {t for t in prod if online_sample(t, "tone", 0.25)}
    assert judged == expected, (
        f"expected 'tone' on the {len(expected)} of {len(prod)} traces the server samples at "
        f"0.25; it judged {len(judged)}, {len(judged & expected)} of them in that sample"
    )


def test_stopped_judges_stay_registered_and_judge_nothing_new(
    exercise, gateway_mlflow_server, production, gateway_judge
):
    exercise.start_monitoring(production, gateway_judge)

    stopped = exercise.stop_monitoring(production)
    later = log_requests({"after the stop?": GOOD})
    run_online_scoring_pass(gateway_mlflow_server, production)

    assert stopped == ["relevance", "tone"], (
        f"expected the names ['relevance', 'tone']; got {shown(stopped)}"
    )
    rates = {name: s[0] for name, s in scorer_settings(production).items()}
    assert rates == {"relevance": 0.0, "tone": 0.0}, (
        f"expected both judges still registered, with sample rate 0; found {rates}"
    )
    assert not verdicts(later[0], "relevance"), "expected a stopped judge to judge no new trace"


# --- reading the verdicts back ---------------------------------------------------------------


def test_pass_rate_counts_the_latest_judge_verdict_of_each_judged_trace(exercise, production):
    answers = {f"q{i}": GOOD for i in range(6)}
    yes, no, retried, failed, by_a_human, as_bool = log_requests(answers)
    log_verdict(yes, "relevance", "yes")
    log_verdict(no, "relevance", "no")
    log_verdict(retried, "relevance", "no")
    log_verdict(retried, "relevance", "yes")  # judged again later: this one counts
    log_verdict(failed, "relevance", error=failed_call())  # a failed call is no verdict
    log_verdict(by_a_human, "relevance", "no", source_type="HUMAN")  # not a judge
    log_verdict(as_bool, "relevance", True)
    log_verdict(yes, "tone", "no")  # another judge
    mlflow.set_experiment(f"elsewhere-{uuid.uuid4().hex[:12]}")  # pass_rate names its own

    stats = exercise.pass_rate(production)

    assert stats == {"judged": 4, "passed": 3, "rate": pytest.approx(3 / 4)}, (
        "expected 4 judged traces in the experiment given (a failed judge call, a human's "
        "feedback and no verdict do not count) and 3 passed (the latest verdict counts; 'yes' "
        f"and True pass); got {shown(stats)}"
    )


def test_pass_rate_is_none_when_nothing_was_judged(exercise, production):
    log_requests({"q": GOOD})

    stats = exercise.pass_rate(production)

    assert stats == {"judged": 0, "passed": 0, "rate": None}, (
        f"expected {{'judged': 0, 'passed': 0, 'rate': None}}; got {shown(stats)}"
    )


def test_an_alert_fires_and_is_tagged_when_quality_drops_below_the_threshold(exercise, production):
    ids = log_requests({f"q{i}": GOOD for i in range(5)})
    for trace_id, value in zip(ids, ["yes", "yes", "yes", "no", "no"], strict=True):
        log_verdict(trace_id, "relevance", value)

    alert = exercise.check_quality(production, threshold=0.8, min_judged=5)

    expected = "relevance pass rate 60% is below 80% (3/5 traces)"
    assert alert == expected, f"expected the alert {expected!r}; got {shown(alert)}"
    tags = mlflow.get_experiment(production).tags
    assert tags.get("monitoring.alert") == alert, (
        f"expected the alert in the experiment tag 'monitoring.alert'; found {shown(tags)}"
    )


def test_no_alert_at_exactly_the_threshold_or_with_too_few_verdicts(exercise, production):
    ids = log_requests({f"q{i}": GOOD for i in range(5)})
    for trace_id, value in zip(ids, ["yes", "yes", "yes", "yes", "no"], strict=True):
        log_verdict(trace_id, "relevance", value)

    at_threshold = exercise.check_quality(production, threshold=0.8, min_judged=5)
    too_few = exercise.check_quality(production, threshold=0.99, min_judged=6)

    assert (at_threshold, too_few) == (None, None), (
        "expected no alert at a pass rate equal to the threshold (4/5 = 80%) nor with fewer "
        f"verdicts than min_judged; got {shown((at_threshold, too_few))}"
    )
    tags = mlflow.get_experiment(production).tags
    assert "monitoring.alert" not in tags, f"expected no alert tag; found {shown(tags)}"


# --- the real thing: the server's own scheduler, no help from the test --------------------------


def test_the_servers_scheduler_judges_new_production_traces_by_itself(
    exercise, gateway_mlflow_server, production, gateway_judge
):
    prod = log_requests({f"question {i}?": BAD if i == 0 else GOOD for i in range(5)})
    exercise.start_monitoring(production, gateway_judge)  # after the traces: see RACE
    newest = max(mlflow.get_trace(t).info.timestamp_ms for t in prod)

    nudge_online_scoring(gateway_mlflow_server)  # tick now, not within the next minute
    wait_for_online_scoring(mlflow.MlflowClient(), production, newest, timeout=300)

    stats = exercise.pass_rate(production)
    assert stats == {"judged": 5, "passed": 4, "rate": pytest.approx(0.8)}, (
        "expected the server's own scoring job to judge the 5 production traces, 4 of them "
        f"relevant; pass_rate found {shown(stats)}"
    )
