"""Checks for ex10_session_judges: built-in conversation judges over sessions of traces.

Three conversations are recorded with the learner's ``answer_turn``, interleaved so that
the session with the oldest first turn has the newest last turn. The fake judge model
answers by content: a user who still says "useless" at the end is frustrated; an
assistant that says "MLflow 2" to a user of MLflow 3 forgot what it was told.
"""

import time

import mlflow
import pytest

from fixtures.assessments import assessments, describe_assessments
from fixtures.judge_calls import JudgeCall, answer_by_content
from fixtures.judges import JUDGE_MODEL
from fixtures.messages import shown
from fixtures.traces import search_traces, span_tree

SESSION, USER = "mlflow.trace.session", "mlflow.trace.user"
JUDGES = ["conversation_completeness", "user_frustration", "knowledge_retention"]

# (session, user, message, reply), in the order they happen
TURNS = [
    ("s-frustrated", "bo", "This is useless, where did stages go?", "Stages became aliases."),
    ("s-old", "ana", "How do I log a model?", "Use mlflow.pyfunc.log_model with name=."),
    ("s-old", "ana", "Thanks!", "You're welcome."),
    ("s-happy", "cy", "I am Cy and I use MLflow 3.", "Hello Cy!"),
    ("s-happy", "cy", "How do I trace a function?", "Decorate it with @mlflow.trace."),
    ("s-happy", "cy", "And how do I evaluate it?", "In MLflow 2 you call mlflow.evaluate."),
    ("s-frustrated", "bo", "Still useless. Bye.", "Sorry to hear that."),
]
BY_LATEST_TURN = ["s-frustrated", "s-happy", "s-old"]  # what search_sessions returns


def _conversation(session):
    messages = []
    for s, _, message, reply in TURNS:
        if s == session:
            messages += [
                {"role": "user", "content": message},
                {"role": "assistant", "content": reply},
            ]
    return messages


def _plays_the_judges(call: JudgeCall):
    conversation = call.conversation
    users = [m["content"] for m in conversation if m["role"] == "user"]
    if call.judge == "user_frustration":
        return "unresolved" if users and "useless" in users[-1] else "none"
    if call.judge == "knowledge_retention":
        last = conversation[-1]["content"] if conversation else ""
        return ("no", "Cy uses MLflow 3.") if "MLflow 2" in last else "yes"
    return "yes"


def _record_chats(exercise):
    """The three conversations (and one lone trace), recorded with ``answer_turn``
    (called in the test, not a fixture: on the stub it fails with NotImplementedError)."""
    for session, user, message, reply in TURNS:
        exercise.answer_turn(session, user, message, lambda _message, reply=reply: reply)
        time.sleep(0.003)  # distinct trace timestamps

    @mlflow.trace(name="one_off")
    def lone(question):
        return "A single answer, outside any conversation."

    lone("What is a span?")


def _judge(exercise, judge_llm, max_sessions=2):
    judge_llm.server.responder = answer_by_content(_plays_the_judges)
    return exercise.evaluate_recent_sessions(JUDGE_MODEL, max_sessions)


def _traces_of(session):
    return sorted(
        (t for t in search_traces() if t.info.trace_metadata.get(SESSION) == session),
        key=lambda t: t.info.request_time,
    )


# --- recording ---------------------------------------------------------------------------------


def test_a_turn_is_one_trace_in_its_session_for_its_user(exercise):
    reply = exercise.answer_turn("s-1", "ana", "hello", lambda message: f"echo {message}")

    assert reply == "echo hello", f"expected answer_turn to return the reply; got {shown(reply)}"
    traces = search_traces()
    assert len(traces) == 1, f"expected one trace for one turn; found {len(traces)}"
    metadata = traces[0].info.trace_metadata
    found = (metadata.get(SESSION), metadata.get(USER))
    assert found == ("s-1", "ana"), (
        f"expected the turn's trace in session 's-1' for user 'ana' (metadata {SESSION}, "
        f"{USER}); found {found}. Use mlflow.update_current_trace(session_id=, user=)."
    )
    root = next(s for s in traces[0].data.spans if s.parent_id is None)
    expected = ("chat_turn", {"messages": [{"role": "user", "content": "hello"}]}, "echo hello")
    assert (root.name, root.inputs, root.outputs) == expected, (
        f"expected the root span {expected}; found {(root.name, root.inputs, root.outputs)}:\n"
        f"{span_tree(traces[0])}"
    )


# --- judging sessions ------------------------------------------------------------------------


def test_the_judges_see_each_conversation_in_order_as_plain_messages(exercise, judge_llm):
    _record_chats(exercise)
    _judge(exercise, judge_llm)

    seen = {}
    for call in map(JudgeCall, judge_llm.calls):
        if call.judge == "user_frustration":
            seen[call.conversation[0]["content"] if call.conversation else None] = call.conversation
    for session in ("s-happy", "s-frustrated"):
        expected = _conversation(session)
        found = seen.get(expected[0]["content"])
        assert found == expected, (
            f"expected the frustration judge to see the conversation {session!r} as plain user "
            f"and assistant messages, in order:\n{expected}\nit saw:\n{found}\n(each turn's "
            "inputs should hold only that turn's user message, as chat messages)"
        )


def test_only_the_most_recently_active_sessions_are_judged(exercise, judge_llm):
    _record_chats(exercise)
    _judge(exercise, judge_llm, max_sessions=2)

    counts = {}
    for call in map(JudgeCall, judge_llm.calls):
        first = call.conversation[0]["content"] if call.conversation else None
        session = next((s for s, _, m, _ in TURNS if m == first), None)
        counts.setdefault(session, []).append(call.judge)
    expected = {  # KnowledgeRetention asks once per turn
        "s-frustrated": sorted(JUDGES[:2] + ["knowledge_retention"] * 2),
        "s-happy": sorted(JUDGES[:2] + ["knowledge_retention"] * 3),
    }
    assert {s: sorted(j) for s, j in counts.items()} == expected, (
        f"expected the two sessions with the most recent turns ({BY_LATEST_TURN[:2]}) to be "
        f"judged whole: {expected}; the judges were asked about {counts}. "
        "mlflow.search_sessions(max_results=) picks sessions, not traces."
    )
    old = [a for t in _traces_of("s-old") for a in assessments(t)]
    assert not old, (
        f"expected no verdict on the older session 's-old'; found {describe_assessments(old)}"
    )


def test_each_sessions_verdicts_land_on_its_first_trace(exercise, judge_llm):
    _record_chats(exercise)
    _judge(exercise, judge_llm)

    expected = {
        "s-frustrated": {
            "conversation_completeness": "yes",
            "user_frustration": "unresolved",
            "knowledge_retention": "yes",
        },
        "s-happy": {
            "conversation_completeness": "yes",
            "user_frustration": "none",
            "knowledge_retention": "no",
        },
    }
    for session, values in expected.items():
        first, *later = _traces_of(session)
        found = {a.name: a.value for a in assessments(first, source_type="LLM_JUDGE")}
        assert found == values, (
            f"expected the verdicts {values} on the first trace of {session!r}; found "
            f"{describe_assessments(assessments(first))}"
        )
        assert all(
            a.metadata.get(SESSION) == session for a in assessments(first, source_type="LLM_JUDGE")
        ), f"expected each verdict's metadata {SESSION} to name {session!r}"
        assert not [a for t in later for a in assessments(t)], (
            f"expected no verdict on the later turns of {session!r}"
        )


def test_knowledge_retention_asks_per_turn_and_keeps_the_worst(exercise, judge_llm):
    _record_chats(exercise)
    result = _judge(exercise, judge_llm)

    asked = [
        len(c.conversation)
        for c in map(JudgeCall, judge_llm.calls)
        if c.judge == "knowledge_retention" and c.conversation[0]["content"].startswith("I am Cy")
    ]
    assert sorted(asked) == [2, 4, 6], (
        f"expected KnowledgeRetention to ask about each turn of 's-happy' with the "
        f"conversation up to it (2, 4 and 6 messages); found {sorted(asked)}"
    )
    metrics = mlflow.get_run(result.run_id).data.metrics
    assert metrics.get("knowledge_retention/mean") == pytest.approx(0.5), (
        f"expected knowledge_retention/mean = 0.5 (one session of two forgot); found {metrics}. "
        "user_frustration has no metric: its values are not yes/no."
    )


# --- reading sessions back ------------------------------------------------------------------


def test_the_report_lists_every_session_latest_first_with_its_verdicts(exercise, judge_llm):
    _record_chats(exercise)
    _judge(exercise, judge_llm)

    report = exercise.session_report()

    expected = [
        {
            "session_id": "s-frustrated",
            "user": "bo",
            "turns": 2,
            "verdicts": {
                "conversation_completeness": "yes",
                "user_frustration": "unresolved",
                "knowledge_retention": "yes",
            },
        },
        {
            "session_id": "s-happy",
            "user": "cy",
            "turns": 3,
            "verdicts": {
                "conversation_completeness": "yes",
                "user_frustration": "none",
                "knowledge_retention": "no",
            },
        },
        {"session_id": "s-old", "user": "ana", "turns": 2, "verdicts": {}},
    ]
    assert report == expected, (
        f"expected the report, the session with the latest turn first:\n{expected}\n"
        f"got:\n{shown(report)}"
    )


def test_the_report_of_conversations_never_judged_has_no_verdicts(exercise):
    _record_chats(exercise)
    report = exercise.session_report()

    found = [(r.get("session_id"), r.get("turns"), r.get("verdicts")) for r in report]
    expected = [("s-frustrated", 2, {}), ("s-happy", 3, {}), ("s-old", 2, {})]
    assert found == expected, (
        f"expected three sessions (the lone trace is in none), latest turn first, with no "
        f"verdicts: {expected}; got {shown(found)}"
    )
