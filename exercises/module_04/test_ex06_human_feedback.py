"""Checks for ex06_human_feedback: answers linked to their agent version, users' thumbs up
and down logged as HUMAN feedback on the answer's trace, and a summary per version."""

import mlflow
import pytest
from mlflow.entities import AssessmentSource, AssessmentSourceType

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.messages import shown
from fixtures.traces import root_span, span_tree

FEEDBACK = "user_thumbs_up"  # the stub's FEEDBACK_NAME: votes logged by someone else's code
EXPECTED = {"agent-v1": (3, 1, 0.75), "agent-v2": (0, 2, 0.0)}  # the summary of `votes`


def _trace(reply):
    trace_id = getattr(reply, "trace_id", None)
    trace = mlflow.get_trace(trace_id) if trace_id else None
    assert trace is not None, f"expected Reply.trace_id to be the id of a trace; got {shown(reply)}"
    return trace


def test_answer_returns_the_reply_and_the_id_of_its_trace(exercise):
    reply = exercise.answer("How do I reset my password?", "agent-v1")

    trace = _trace(reply)
    root = root_span(trace)
    text = getattr(reply, "text", None)
    outputs = getattr(root, "outputs", None)
    assert getattr(root, "span_type", None) == "AGENT" and outputs == text, (
        "expected the trace's root span to be the agent (AGENT) with the reply as its output; "
        f"found spans:\n{span_tree(trace)}\nand output {shown(outputs)} for the reply "
        f"{shown(text)}"
    )
    assert text == exercise._agent_reply("How do I reset my password?"), (
        f"expected the reply to be the agent's answer (_agent_reply); got {shown(text)}"
    )
    assert "How do I reset my password?" in str(root.inputs), (
        f"expected the question among the root span's inputs; found {shown(root.inputs)}"
    )


def test_the_answers_trace_is_linked_to_its_agent_version(exercise):
    reply = exercise.answer("How do I reset my password?", "agent-v2")

    model_id = _trace(reply).info.trace_metadata.get("mlflow.modelId")
    name = mlflow.get_logged_model(model_id).name if model_id else None
    assert name == "agent-v2", (
        "expected the trace to be linked to the LoggedModel 'agent-v2' (make it the active "
        f"model); it is linked to {name or 'no model'}"
    )


def _traced_answer():
    with mlflow.start_span(name="agent", span_type="AGENT") as span:
        span.set_outputs("An answer.")
    return span.trace_id


def test_record_feedback_logs_a_human_thumbs_up_on_the_trace(exercise):
    trace_id = _traced_answer()

    exercise.record_feedback(trace_id, "ada@example.com", True)

    found = assessments(trace_id, name=exercise.FEEDBACK_NAME)
    assert len(found) == 1, (
        f"expected one feedback named {exercise.FEEDBACK_NAME!r} on the trace; found "
        f"{describe_assessments(assessments(trace_id))}"
    )
    feedback = found[0]
    assert assessment_value(feedback) is True, (
        f"expected the value True for a thumbs up; found {assessment_value(feedback)!r}"
    )
    source = feedback.source
    assert (source.source_type, source.source_id) == ("HUMAN", "ada@example.com"), (
        "expected the source to be HUMAN with the user as source id "
        f"(AssessmentSource(source_type='HUMAN', source_id=user)); found "
        f"{source.source_type}/{source.source_id}"
    )


def test_a_thumbs_down_keeps_the_users_comment_as_its_rationale(exercise):
    trace_id = _traced_answer()

    exercise.record_feedback(trace_id, "bob", False, "It did not answer my question.")

    found = assessments(trace_id, name=exercise.FEEDBACK_NAME, source_type="HUMAN")
    assert [(assessment_value(f), f.rationale) for f in found] == [
        (False, "It did not answer my question.")
    ], (
        "expected one HUMAN feedback with the value False and the comment as rationale; found "
        + "; ".join(f"{assessment_value(f)!r} rationale={f.rationale!r}" for f in found)
    )


def test_feedback_from_several_users_is_kept_apart(exercise):
    trace_id = _traced_answer()

    exercise.record_feedback(trace_id, "ada", True)
    exercise.record_feedback(trace_id, "bob", False)

    found = sorted(
        (f.source.source_id, assessment_value(f))
        for f in assessments(trace_id, name=exercise.FEEDBACK_NAME)
    )
    assert found == [("ada", True), ("bob", False)], (
        f"expected one vote per user, ada: True and bob: False; found {found}"
    )


# --- the summary per agent version ---------------------------------------------------------


def _vote(trace_id, user, up, name=None, source_type=AssessmentSourceType.HUMAN):
    mlflow.log_feedback(
        trace_id=trace_id,
        name=name or FEEDBACK,
        value=up,
        source=AssessmentSource(source_type=source_type, source_id=user),
    )


def _answers_of(version, n):
    ids = []
    with mlflow.set_active_model(name=version):
        for _ in range(n):
            ids.append(_traced_answer())
    return ids


@pytest.fixture
def votes():
    """Answers of two agent versions with users' votes, logged with MLflow's own API."""
    mlflow.set_experiment("support-agent")
    v1 = _answers_of("agent-v1", 3)
    v2 = _answers_of("agent-v2", 2)
    _answers_of("agent-v0", 1)  # answered, never voted on: left out of the summary
    _vote(v1[0], "ada", True)
    _vote(v1[0], "bob", True)
    _vote(v1[1], "ada", False)
    _vote(v1[2], "cy", True)
    _vote(v2[0], "ada", False)
    _vote(v2[1], "bob", False)
    return {"v1": v1, "v2": v2}


def _found(summary):
    """{version: (thumbs_up, thumbs_down, approval_rate)}, whatever feedback_summary returned."""
    if not isinstance(summary, dict):
        return shown(summary)
    found = {}
    for version, s in summary.items():
        rate = getattr(s, "approval_rate", None)
        found[version] = (
            getattr(s, "thumbs_up", None),
            getattr(s, "thumbs_down", None),
            round(rate, 4) if isinstance(rate, int | float) else rate,
        )
    return found


def test_feedback_summary_counts_the_votes_per_agent_version(exercise, votes):
    summary = exercise.feedback_summary()

    assert _found(summary) == EXPECTED, (
        "expected (thumbs_up, thumbs_down, approval_rate) per agent version, keyed by the name "
        "of the LoggedModel each trace is linked to, versions without votes (agent-v0) left "
        f"out:\n{EXPECTED}\nfound:\n{_found(summary)}"
    )


def test_feedback_summary_counts_only_human_votes(exercise, votes):
    _vote(votes["v1"][1], "judge", True, source_type=AssessmentSourceType.LLM_JUDGE)
    _vote(votes["v2"][0], "scorer", True, source_type=AssessmentSourceType.CODE)

    summary = exercise.feedback_summary()

    assert _found(summary) == EXPECTED, (
        f"expected only HUMAN feedback to count, not an LLM judge's or a code scorer's "
        f"{FEEDBACK!r}:\n{EXPECTED}\nfound:\n{_found(summary)}"
    )


def test_feedback_summary_counts_only_feedback_named_user_thumbs_up(exercise, votes):
    _vote(votes["v2"][0], "ada", True, name="helpfulness")

    summary = exercise.feedback_summary()

    assert _found(summary) == EXPECTED, (
        f"expected only feedback named {FEEDBACK!r} to count, not a user's 'helpfulness':\n"
        f"{EXPECTED}\nfound:\n{_found(summary)}"
    )


def test_feedback_summary_skips_answers_linked_to_no_version(exercise, votes):
    unversioned = _traced_answer()
    _vote(unversioned, "ada", True)

    summary = exercise.feedback_summary()

    assert _found(summary) == EXPECTED, (
        "expected votes on a trace linked to no agent version (no LoggedModel) to be skipped:"
        f"\n{EXPECTED}\nfound:\n{_found(summary)}"
    )


def test_feedback_summary_reads_only_the_experiment_it_is_given(exercise, votes):
    support = mlflow.get_experiment_by_name("support-agent").experiment_id
    mlflow.set_experiment("other-agent")
    _vote(_answers_of("agent-v1", 1)[0], "dan", False)

    given = exercise.feedback_summary(support)
    current = exercise.feedback_summary()

    assert _found(given) == EXPECTED, (
        "expected feedback_summary(<support-agent's id>) to count the votes of that experiment "
        f"only, while another experiment is active:\n{EXPECTED}\nfound:\n{_found(given)}"
    )
    assert _found(current) == {"agent-v1": (0, 1, 0.0)}, (
        "expected feedback_summary() to count the votes of the current experiment only, "
        f"'other-agent': {{'agent-v1': (0, 1, 0.0)}}; found {_found(current)}"
    )


def test_feedback_summary_reads_the_votes_on_the_agents_own_answers(exercise):
    first = exercise.answer("Where is my order?", "agent-v3")
    second = exercise.answer("Can I get a refund?", "agent-v3")
    exercise.record_feedback(first.trace_id, "ada", True)
    exercise.record_feedback(second.trace_id, "ada", False, "Too vague.")
    exercise.record_feedback(second.trace_id, "bob", True)

    summary = exercise.feedback_summary()

    assert _found(summary) == {"agent-v3": (2, 1, round(2 / 3, 4))}, (
        f"expected agent-v3: 2 up, 1 down; found {_found(summary)}"
    )
