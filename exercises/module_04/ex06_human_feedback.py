"""Exercise 6: human feedback: thumbs up and down on the agent's answers, per version.

The people who use your agent know best whether an answer helped. MLflow 3
stores their verdicts as *feedback assessments* on the answer's trace:
``mlflow.log_feedback(trace_id=..., name=..., value=..., source=..., rationale=...)``,
with ``AssessmentSource(source_type="HUMAN", source_id=<the user>)`` saying who
gave it (LLM judges and code scorers write assessments of the same kind, with
source types ``LLM_JUDGE`` and ``CODE``). For that, the client needs the id of
the answer's trace: return it with the answer.

Feedback becomes useful when you compare agent versions. Make each version a
LoggedModel (``mlflow.set_active_model(name="agent-v2")``): every trace is then
linked to the version that produced it (trace metadata ``mlflow.modelId``), and
the votes on a version's traces say how well it is doing.

Build:

1. ``answer(question, agent_version)``: the (ready-made) agent's reply, traced
   and linked to its version; return the reply and the trace id.
2. ``record_feedback(trace_id, user, thumbs_up, comment)``: one user's vote on
   one answer.
3. ``feedback_summary(experiment_id)``: the votes per agent version, read back
   from MLflow, whoever logged them.

MLflow APIs practised: ``mlflow.set_active_model``, ``mlflow.start_span`` /
``@mlflow.trace``, ``mlflow.log_feedback``, ``AssessmentSource``,
``mlflow.search_traces``, ``TraceInfo.assessments``, ``mlflow.get_logged_model``.

Done looks like this: in the UI each answer's trace shows the users' votes in
its Assessments panel, with their comments; ``feedback_summary()`` says, e.g.,
``{"agent-v1": FeedbackSummary(3, 1, 0.75), "agent-v2": ...}``.

Run the checks: ``uv run pytest exercises/module_04/test_ex06_human_feedback.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow  # noqa: F401
from mlflow.entities import AssessmentSource, AssessmentSourceType, SpanType  # noqa: F401

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
    # TODO: set the active model by name; open an AGENT span (with mlflow.start_span, or
    #       call a function traced with @mlflow.trace), record the question and the reply;
    #       return Reply(text, the span's trace_id).
    raise NotImplementedError("answer: not written yet (see the TODO above)")


def record_feedback(trace_id: str, user: str, thumbs_up: bool, comment: str | None = None) -> None:
    """Log one user's thumbs up (True) or down (False) on the answer's trace.

    A feedback assessment named ``FEEDBACK_NAME`` whose value is ``thumbs_up``,
    whose source is HUMAN with the user as its source id, and whose rationale is
    the user's comment (if any).
    """
    # TODO: mlflow.log_feedback(trace_id=..., name=..., value=..., source=..., rationale=...)
    raise NotImplementedError("record_feedback: not written yet (see the TODO above)")


def feedback_summary(experiment_id: str | None = None) -> dict[str, FeedbackSummary]:
    """The users' votes per agent version, read back from the traces of ``experiment_id``
    (default: the current experiment).

    Keys are agent versions (the name of the LoggedModel each trace is linked to).
    Count only HUMAN feedback named ``FEEDBACK_NAME``; skip traces linked to no model.
    Versions without any vote are left out.
    """
    # TODO: search the traces (their info has .assessments and .trace_metadata); for each
    #       trace linked to a model, count the HUMAN feedback named FEEDBACK_NAME as up or
    #       down; name the model with mlflow.get_logged_model(model_id).name.
    raise NotImplementedError("feedback_summary: not written yet (see the TODO above)")
