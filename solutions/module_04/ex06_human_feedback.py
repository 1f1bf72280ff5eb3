"""Reference solution for module_04/ex06_human_feedback: thumbs up/down from users, logged on
the answer's trace, and a summary of the feedback per agent version."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
from mlflow.entities import AssessmentSource, AssessmentSourceType, SpanType

FEEDBACK_NAME = "user_thumbs_up"
MODEL_ID_KEY = "mlflow.modelId"  # trace metadata: the LoggedModel that was active


@dataclass
class Reply:
    """What the agent answered, and the id of the trace to attach feedback to."""

    text: str
    trace_id: str


@dataclass
class FeedbackSummary:
    """The users' votes on the answers of one agent version."""

    thumbs_up: int
    thumbs_down: int
    approval_rate: float  # thumbs_up / (thumbs_up + thumbs_down)


def _agent_reply(question: str) -> str:
    """The agent itself (ready-made): a canned support answer."""
    return f"Thanks for asking about '{question}'. Please see the help centre."


def answer(question: str, agent_version: str) -> Reply:
    """Answer ``question`` as the agent version ``agent_version``, in one trace.

    Make ``agent_version`` the active model (a LoggedModel of that name), so the
    trace is linked to it; record the answer as a trace with an AGENT root span
    whose input is the question and whose output is ``_agent_reply(question)``.
    Return the reply with the trace's id: a client needs it to send feedback later.
    """
    mlflow.set_active_model(name=agent_version)
    with mlflow.start_span(name="support_agent", span_type=SpanType.AGENT) as span:
        span.set_inputs({"question": question})
        text = _agent_reply(question)
        span.set_outputs(text)
    return Reply(text=text, trace_id=span.trace_id)


def record_feedback(trace_id: str, user: str, thumbs_up: bool, comment: str | None = None) -> None:
    """Log one user's thumbs up (True) or down (False) on the answer's trace.

    A feedback assessment named ``FEEDBACK_NAME`` whose value is ``thumbs_up``,
    whose source is HUMAN with the user as its source id, and whose rationale is
    the user's comment (if any).
    """
    mlflow.log_feedback(
        trace_id=trace_id,
        name=FEEDBACK_NAME,
        value=thumbs_up,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=user),
        rationale=comment,
    )


def feedback_summary(experiment_id: str | None = None) -> dict[str, FeedbackSummary]:
    """The users' votes per agent version, read back from the traces of ``experiment_id``
    (default: the current experiment).

    Keys are agent versions (the name of the LoggedModel each trace is linked to).
    Count only HUMAN feedback named ``FEEDBACK_NAME``; skip traces linked to no model.
    Versions without any vote are left out.
    """
    locations = [experiment_id] if experiment_id else None
    traces = mlflow.search_traces(locations=locations, include_spans=False, return_type="list")
    names: dict[str, str] = {}  # model id -> LoggedModel name
    votes: dict[str, list[int]] = {}  # version -> [up, down]
    for trace in traces:
        model_id = trace.info.trace_metadata.get(MODEL_ID_KEY)
        if not model_id:
            continue
        for assessment in trace.info.assessments:
            if assessment.name != FEEDBACK_NAME or assessment.feedback is None:
                continue
            if assessment.source.source_type != AssessmentSourceType.HUMAN:
                continue
            if model_id not in names:
                names[model_id] = mlflow.get_logged_model(model_id).name
            counts = votes.setdefault(names[model_id], [0, 0])
            counts[0 if assessment.feedback.value else 1] += 1
    return {
        version: FeedbackSummary(thumbs_up=up, thumbs_down=down, approval_rate=up / (up + down))
        for version, (up, down) in votes.items()
    }
