"""Checks for ex05_multi_turn: conversations as sessions of traces, judged as a whole."""

import json
import time

import mlflow
import pytest
from mlflow.entities import AssessmentSource, AssessmentSourceType

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.judges import JUDGE_MODEL, verdict
from fixtures.messages import describe, shown
from fixtures.traces import search_traces, span_tree

SESSION = "mlflow.trace.session"
JUDGES = ["goal_reached", "no_contradiction"]
CONTRADICTION = "I never said that"

CONVERSATIONS = {
    "session-happy": [
        ("I want to move my model to production.", "Point the champion alias at it."),
        ("Which call does that?", "MlflowClient().set_registered_model_alias."),
        ("Thanks, done!", "Glad it worked."),
    ],
    "session-sad": [
        ("How do I promote a model?", "Use the champion alias."),
        ("So aliases replace stages?", f"{CONTRADICTION}; use stages."),
    ],
}


def _session_of(trace):
    return trace.info.trace_metadata.get(SESSION)


def _root(trace):
    return next(s for s in trace.data.spans if s.parent_id is None)


# --- recording a conversation -----------------------------------------------------------------


def test_a_conversation_is_one_trace_per_turn_in_one_session(exercise):
    seen = []

    def reply_fn(history):
        seen.append([dict(m) for m in history])
        time.sleep(0.002)  # each turn's trace starts in a later millisecond than the last
        return f"reply {len(seen)}"

    replies = exercise.run_conversation("s-1", ["hello", "book a room", "thanks"], reply_fn)

    assert replies == ["reply 1", "reply 2", "reply 3"], (
        f"expected run_conversation to return the replies in order; got {shown(replies)}"
    )
    traces = search_traces()
    assert len(traces) == 3, f"expected one trace per turn (3); found {len(traces)}"
    sessions = [_session_of(t) for t in traces]
    assert sessions == ["s-1"] * 3, (
        f"expected every turn's trace to be in the session 's-1' (trace metadata {SESSION}); "
        f"found {sessions}. Set it inside the trace with mlflow.update_current_trace."
    )
    turns = [(_root(t).inputs, _root(t).outputs) for t in traces]
    expected = [
        ({"message": m}, f"reply {i}") for i, m in enumerate(["hello", "book a room", "thanks"], 1)
    ]
    assert turns == expected, (
        f"expected each trace's inputs to be {{'message': <user message>}} and its output the "
        f"reply; found {turns}. The last trace:\n{span_tree(traces[-1])}"
    )


def test_the_reply_function_sees_the_whole_conversation_so_far(exercise):
    seen = []

    def reply_fn(history):
        seen.append([dict(m) for m in history])
        return f"reply {len(seen)}"

    exercise.run_conversation("s-2", ["hello", "book a room"], reply_fn)

    expected_last = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "reply 1"},
        {"role": "user", "content": "book a room"},
    ]
    assert len(seen) == 2 and seen[-1] == expected_last, (
        f"expected reply_fn to get the whole history on the second turn, {expected_last}; "
        f"it got {shown(seen[-1]) if seen else 'no call'}"
    )


# --- judging whole conversations ----------------------------------------------------------


ELSEWHERE = ("Is this conversation in another experiment?", "Yes, the default one.")


@pytest.fixture
def conversations():
    """Two sessions recorded with MLflow's public API in the active experiment, one trace
    outside any session, and a conversation in another experiment that is not active."""

    @mlflow.trace(name="chat_turn")
    def turn(message, reply, session):
        mlflow.update_current_trace(session_id=session)
        return reply

    turn(*ELSEWHERE, "session-elsewhere")  # in the Default experiment
    mlflow.set_experiment("kata-ex05-conversations")
    for session, pairs in CONVERSATIONS.items():
        for message, reply in pairs:
            turn(message, reply, session)

    @mlflow.trace(name="one_off")
    def lone(message):
        return "A single answer, outside any conversation."

    lone("What is a span?")


def _contradiction_is_false(request):
    return verdict(CONTRADICTION not in json.dumps(request.body.get("messages")))


def test_each_judge_is_asked_once_per_conversation_with_the_whole_conversation(
    exercise, judge_llm, conversations
):
    judge_llm.server.responder = _contradiction_is_false

    exercise.evaluate_conversations(JUDGE_MODEL)

    calls = [json.dumps(c.body.get("messages")) for c in judge_llm.calls]
    elsewhere = [c for c in calls if ELSEWHERE[0] in c]
    assert not elsewhere, (
        "expected only the conversations of the active experiment to be judged; the judges "
        f"were also asked {len(elsewhere)} times about a conversation of another experiment"
    )
    assert len(calls) == len(CONVERSATIONS) * len(JUDGES), (
        f"expected {len(CONVERSATIONS) * len(JUDGES)} judge calls (2 judges x 2 conversations); "
        f"found {len(calls)}. Session-level judges use {{{{ conversation }}}} in their "
        "instructions; a judge of single turns would be asked once per trace."
    )
    for session, pairs in CONVERSATIONS.items():
        whole = [c for c in calls if all(m in c and r in c for m, r in pairs)]
        assert len(whole) == len(JUDGES), (
            f"expected each judge to see the whole conversation {session!r} (every message and "
            f"reply) in one call; {len(whole)} of the calls did"
        )


def test_each_conversation_judge_asks_for_a_true_or_false_verdict(
    exercise, judge_llm, conversations
):
    judges = exercise.conversation_judges(JUDGE_MODEL)

    named = {getattr(j, "name", None): j for j in judges or []}
    assert set(named) == set(JUDGES), (
        f"expected two judges named {JUDGES}; found {describe(judges)}"
    )
    session = [t for t in search_traces() if _session_of(t) == "session-happy"]
    for name in JUDGES:
        named[name](session=session)
    asked = {}
    for name, call in zip(JUDGES, judge_llm.calls, strict=False):
        schema = (call.body.get("response_format") or {}).get("json_schema") or {}
        asked[name] = schema.get("schema", {}).get("properties", {}).get("result", {}).get("type")
    assert asked == dict.fromkeys(JUDGES, "boolean"), (
        "expected each judge to ask its model for a true/false verdict "
        f"(feedback_value_type=bool); the requests' response schemas say {asked}"
    )


def test_the_verdicts_land_on_the_first_trace_of_each_session(exercise, judge_llm, conversations):
    judge_llm.server.responder = _contradiction_is_false

    exercise.evaluate_conversations(JUDGE_MODEL)

    for session in CONVERSATIONS:
        traces = [t for t in search_traces() if _session_of(t) == session]
        first = min(traces, key=lambda t: t.info.request_time)
        found = {
            a.name: assessment_value(a)
            for a in assessments(first, source_type="LLM_JUDGE")
            if a.name in JUDGES
        }
        happy = session == "session-happy"
        assert found == dict.fromkeys(JUDGES, happy), (
            f"expected the verdicts {dict.fromkeys(JUDGES, happy)} on the first trace of "
            f"{session!r}; found {describe_assessments(assessments(first))}"
        )
    lone = [t for t in search_traces() if not _session_of(t)]
    assert lone and not assessments(lone[0]), (
        "expected the trace outside any session to get no conversation verdict; found "
        f"{describe_assessments(assessments(lone[0])) if lone else 'no such trace'}"
    )


def test_session_verdicts_reads_them_back_by_session(exercise, judge_llm, conversations):
    judge_llm.server.responder = _contradiction_is_false
    exercise.evaluate_conversations(JUDGE_MODEL)

    verdicts = exercise.session_verdicts()

    expected = {
        "session-happy": dict.fromkeys(JUDGES, True),
        "session-sad": dict.fromkeys(JUDGES, False),
    }
    assert verdicts == expected, f"expected session_verdicts() == {expected}; got {shown(verdicts)}"


def test_session_verdicts_keeps_only_the_conversation_judges_of_the_active_experiment(
    exercise, conversations
):
    judged = {}  # verdicts logged directly: no judge model needed
    for trace in search_traces():
        session = _session_of(trace)
        if session and session not in judged:
            judged[session] = trace.info.trace_id
            for name in JUDGES:
                mlflow.log_feedback(
                    trace_id=trace.info.trace_id,
                    name=name,
                    value=session == "session-happy",
                    source=AssessmentSource(
                        source_type=AssessmentSourceType.LLM_JUDGE, source_id=JUDGE_MODEL
                    ),
                )
    mlflow.log_feedback(
        trace_id=judged["session-happy"],
        name="user_thumbs_up",
        value=False,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="a user"),
    )

    verdicts = exercise.session_verdicts()

    expected = {
        "session-happy": dict.fromkeys(JUDGES, True),
        "session-sad": dict.fromkeys(JUDGES, False),
    }
    assert verdicts == expected, (
        f"expected session_verdicts() == {expected}: only the verdicts named {JUDGES}, only for "
        "the sessions of the active experiment (not 'session-elsewhere' in another "
        f"experiment), not the user's 'user_thumbs_up' feedback; got {shown(verdicts)}"
    )
