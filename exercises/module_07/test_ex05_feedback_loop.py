"""Checks for ex05_feedback_loop: user thumbs on traces, reported per version and prompt."""

import mlflow
from fastapi.testclient import TestClient
from mlflow.entities import AssessmentSource

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.messages import shown
from fixtures.production import good_answers, register_canned_agent, request_for
from fixtures.prompts import wait_for_prompt_links
from fixtures.snapshots import store_snapshot
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


def json_of(response) -> dict:
    """The response's JSON object, or {} when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def summaries(report, *names) -> object:
    """{version: (the named fields, numbers rounded)} of a report; the report as it is
    when it is not a dict."""
    if not isinstance(report, dict):
        return report
    return {
        version: tuple(
            round(v, 3) if isinstance(v, float) else v
            for v in (getattr(summary, name, None) for name in names)
        )
        for version, summary in report.items()
    }


def ranked(ranking) -> list:
    """The (name, rate rounded) pairs of a ranking, whatever it is made of."""
    if not isinstance(ranking, list | tuple):
        return [ranking]
    pairs = []
    for pair in ranking:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            name, rate = pair
            pairs.append((name, round(rate, 3) if isinstance(rate, float) else rate))
        else:
            pairs.append(pair)
    return pairs


def names_in(ranking) -> list:
    return [pair[0] if isinstance(pair, tuple) else pair for pair in ranked(ranking)]


@store_snapshot
def traffic():
    """Three versions of support-agent: versions 1 and 2 answered 3 questions each with the
    prompts support/1 and support/2; version 3 served nobody. Users rated the answers:
    version 1: up, up, down; version 2: down, down, up, and a second user's down. Judges
    and a support desk ("resolved", HUMAN) left feedback too: none of it is a user thumb."""
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
    desk = AssessmentSource(source_type="HUMAN", source_id="support-desk")
    mlflow.log_feedback(trace_id=traces["1"][0], name="resolved", value=False, source=desk)
    return traces


@mlflow.trace
def _prompted(uri: str) -> str:
    return mlflow.genai.load_prompt(uri).format(question="What is a span?")


@store_snapshot
def rated_prompts():
    """Prompt versions loaded inside traces, then rated: beta/1, alpha/1 and gamma/1 each got
    one thumb down out of two (a tie at 0.5, made in that order); delta/1 was loaded in a
    trace that nobody rated."""
    ratings = {"beta": [False, True], "alpha": [True, False], "gamma": [False, True], "delta": []}
    for name, thumbs in ratings.items():
        uri = mlflow.genai.register_prompt(name=name, template="{{question}}").uri
        for up in thumbs or [None]:
            _prompted(uri)
            if up is not None:
                thumb(mlflow.get_last_active_trace_id(), up)
    wait_for_prompt_links()


def test_feedback_is_logged_on_the_trace_as_human_feedback(exercise):
    trace_id = a_trace()
    body = {"trace_id": trace_id, "thumbs_up": False, "comment": "wrong answer", "user": "alice"}

    with TestClient(exercise.create_app()) as client:
        response = client.post("/feedback", json=body)

    assert response.status_code == 201 and json_of(response).get("assessment_id"), (
        f"expected 201 with the new assessment_id; got {response.status_code} {response.text}"
    )
    found = assessments(trace_id, name=NAME, source_type="HUMAN")
    assert len(found) == 1, (
        f"expected one HUMAN feedback named {NAME!r} on the trace; found "
        f"{describe_assessments(assessments(trace_id))}"
    )
    assert json_of(response).get("assessment_id") == found[0].assessment_id, (
        f"expected the body's assessment_id to be the logged feedback's id "
        f"({found[0].assessment_id}); got {response.text}"
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
    assert "error" in json_of(response), f"expected a JSON 'error'; got {response.text}"
    # (a 500 from log_feedback's "not found" is not a 404: check the trace first)
    assert assessments(known) == [], "expected nothing logged for an unknown trace"


def test_feedback_by_version_counts_user_thumbs_per_registered_version(exercise, traffic):
    report = exercise.feedback_by_version(MODEL)

    got = summaries(report, "thumbs_up", "thumbs_down", "negative_rate")
    expected = {"1": (2, 1, 0.333), "2": (1, 3, 0.75), "3": (0, 0, 0.0)}
    assert got == expected, (
        f"expected (thumbs_up, thumbs_down, negative_rate) per version {expected}; got "
        f"{shown(got)}. "
        "Count only HUMAN feedback named 'user_thumbs_up' on the traces linked to each "
        "version's LoggedModel; every version appears."
    )


def test_feedback_by_version_finds_the_traces_in_any_experiment(exercise, traffic):
    mlflow.set_experiment("ex05-another-project")  # the traffic is in the Default experiment

    report = exercise.feedback_by_version(MODEL)

    got = summaries(report, "thumbs_up", "thumbs_down")
    expected = {"1": (2, 1), "2": (1, 3), "3": (0, 0)}
    assert got == expected, (
        f"expected (thumbs_up, thumbs_down) per version {expected} while another experiment is "
        f"active (a version's traces may be in any experiment); got {shown(got)}"
    )


def test_worst_prompt_versions_ranks_prompts_by_their_share_of_thumbs_down(exercise, traffic):
    ranking = exercise.worst_prompt_versions()
    top = exercise.worst_prompt_versions(limit=1)

    got = ranked(ranking)
    assert got == [("support/2", 0.75), ("support/1", 0.333)], (
        f"expected [('support/2', 0.75), ('support/1', 0.333)], worst first, from the "
        f"prompt versions linked to the rated traces; got {shown(got)}"
    )
    assert names_in(top) == ["support/2"], (
        f"expected limit=1 to give only the worst prompt version; got {shown(top)}"
    )
    assert len(search_traces()) == 6, "the traffic fixture should have made 6 traces"


def test_worst_prompt_versions_breaks_ties_by_name(exercise, rated_prompts):
    ranking = exercise.worst_prompt_versions(limit=10)

    got = names_in(ranking)
    assert got == ["alpha/1", "beta/1", "gamma/1"], (
        f"expected the three prompt versions tied at 0.5 in name order: ['alpha/1', 'beta/1', "
        f"'gamma/1']; got {shown(ranking)}"
    )


def test_worst_prompt_versions_leaves_out_prompts_nobody_rated(exercise, rated_prompts):
    ranking = exercise.worst_prompt_versions(limit=10)

    names = names_in(ranking)
    assert "delta/1" not in names and len(names) == 3, (
        f"expected only the prompt versions with at least one user thumb (alpha/1, beta/1, "
        f"gamma/1), not delta/1, whose trace nobody rated; got {shown(ranking)}"
    )
