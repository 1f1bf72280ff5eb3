"""Checks for ex05_feedback_loop: user thumbs on traces, reported per version and prompt."""

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow.entities import AssessmentSource

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.production import good_answers, register_canned_agent, request_for
from fixtures.prompts import wait_for_prompt_links
from fixtures.traces import search_traces

MODEL = "support-agent"
NAME = "user_thumbs_up"
UNKNOWN_TRACE = "tr-" + "0" * 32
QUESTIONS = list(good_answers())[:3]


@mlflow.trace(span_type="AGENT")
def _answer(question: str) -> str:
    return f"An answer to {question}"


def a_trace() -> str:
    _answer("What is a span?")
    return mlflow.get_last_active_trace_id()


def thumb(trace_id: str, up: bool, user: str = "someone") -> None:
    """A user's thumb, logged the way any correct /feedback does."""
    source = AssessmentSource(source_type="HUMAN", source_id=user)
    mlflow.log_feedback(trace_id=trace_id, name=NAME, value=up, source=source)


def judge_says(trace_id: str, value: bool) -> None:
    """Noise: an LLM judge's verdict, which is not user feedback."""
    source = AssessmentSource(source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini")
    mlflow.log_feedback(trace_id=trace_id, name="correctness", value=value, source=source)


@pytest.fixture
def traffic():
    """Three versions of support-agent: versions 1 and 2 answered 3 questions each with the
    prompts support/1 and support/2; version 3 served nobody. Users rated the answers:
    version 1: up, up, down; version 2: down, down, up, and a second user's down."""
    uris = [
        mlflow.genai.register_prompt(name="support", template=f"v{n}: {{{{question}}}}").uri
        for n in (1, 2)
    ]
    traces = {}
    for version, uri in zip(("1", "2"), uris, strict=True):
        register_canned_agent(MODEL, good_answers(), prompt_uri=uri)
        agent = mlflow.pyfunc.load_model(f"models:/{MODEL}/{version}")
        traces[version] = []
        for question in QUESTIONS:
            agent.predict(request_for(question))
            traces[version].append(mlflow.get_last_active_trace_id())
    register_canned_agent(MODEL, good_answers())
    wait_for_prompt_links()

    for trace_id, up in zip(traces["1"], [True, True, False], strict=True):
        thumb(trace_id, up)
        judge_says(trace_id, False)
    for trace_id, up in zip(traces["2"], [False, False, True], strict=True):
        thumb(trace_id, up)
        judge_says(trace_id, True)
    thumb(traces["2"][2], False, user="second-user")
    return traces


def test_feedback_is_logged_on_the_trace_as_human_feedback(exercise):
    trace_id = a_trace()
    body = {"trace_id": trace_id, "thumbs_up": False, "comment": "wrong answer", "user": "alice"}

    with TestClient(exercise.create_app()) as client:
        response = client.post("/feedback", json=body)

    assert response.status_code == 201 and response.json().get("assessment_id"), (
        f"expected 201 with the new assessment_id; got {response.status_code} {response.text}"
    )
    found = assessments(trace_id, name=NAME, source_type="HUMAN")
    assert len(found) == 1, (
        f"expected one HUMAN feedback named {NAME!r} on the trace; found "
        f"{describe_assessments(assessments(trace_id))}"
    )
    got = (assessment_value(found[0]), found[0].rationale, found[0].source.source_id)
    assert got == (False, "wrong answer", "alice"), (
        f"expected value False, rationale 'wrong answer' and source id 'alice'; got {got}"
    )


def test_feedback_without_a_user_or_comment_is_anonymous(exercise):
    trace_id = a_trace()

    with TestClient(exercise.create_app()) as client:
        response = client.post("/feedback", json={"trace_id": trace_id, "thumbs_up": True})

    assert response.status_code == 201, f"expected 201; got {response.status_code}"
    found = assessments(trace_id, name=NAME, source_type="HUMAN")
    assert [(assessment_value(a), a.source.source_id) for a in found] == [(True, "anonymous")], (
        f"expected one thumb up from 'anonymous'; found {describe_assessments(found)}"
    )


def test_feedback_for_an_unknown_trace_is_a_404_with_a_json_error(exercise):
    known = a_trace()

    with TestClient(exercise.create_app(), raise_server_exceptions=False) as client:
        response = client.post("/feedback", json={"trace_id": UNKNOWN_TRACE, "thumbs_up": False})

    assert response.status_code == 404, (
        f"expected 404 for a trace id the store does not know; got {response.status_code} "
        f"{response.text}"
    )
    assert "error" in response.json(), f"expected a JSON 'error'; got {response.text}"
    # (a 500 from log_feedback's "not found" is not a 404: check the trace first)
    assert assessments(known) == [], "expected nothing logged for an unknown trace"


def test_feedback_by_version_counts_user_thumbs_per_registered_version(exercise, traffic):
    report = exercise.feedback_by_version(MODEL)

    got = {v: (s.thumbs_up, s.thumbs_down, round(s.negative_rate, 3)) for v, s in report.items()}
    expected = {"1": (2, 1, 0.333), "2": (1, 3, 0.75), "3": (0, 0, 0.0)}
    assert got == expected, (
        f"expected (thumbs_up, thumbs_down, negative_rate) per version {expected}; got {got}. "
        "Count only HUMAN feedback named 'user_thumbs_up' on the traces linked to each "
        "version's LoggedModel; every version appears."
    )


def test_worst_prompt_versions_ranks_prompts_by_their_share_of_thumbs_down(exercise, traffic):
    ranking = exercise.worst_prompt_versions()
    top = exercise.worst_prompt_versions(limit=1)

    got = [(name, round(rate, 3)) for name, rate in ranking]
    assert got == [("support/2", 0.75), ("support/1", 0.333)], (
        f"expected [('support/2', 0.75), ('support/1', 0.333)], worst first, from the "
        f"prompt versions linked to the rated traces; got {got}"
    )
    assert [name for name, _ in top] == ["support/2"], (
        f"expected limit=1 to give only the worst prompt version; got {top}"
    )
    assert len(search_traces()) == 6, "the traffic fixture should have made 6 traces"
