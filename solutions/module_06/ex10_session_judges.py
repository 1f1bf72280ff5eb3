"""Reference solution for module_06/ex10_session_judges: MLflow's built-in conversation
judges over sessions of traces, found with ``mlflow.search_sessions``.

A support chat records one trace per turn, tagged with its session and user. Later,
the most recently active conversations are fetched as sessions and judged as wholes
by ``ConversationCompleteness``, ``UserFrustration`` and ``KnowledgeRetention``; a
report reads each session's verdicts back from the store.

Done when each turn is one trace in its session, the judges see each conversation
once, in order, as plain user and assistant messages, only the sessions asked for
are judged, and the report lists every session with its verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import ConversationCompleteness, KnowledgeRetention, UserFrustration
from mlflow.genai.scorers.base import Scorer

JUDGE_NAMES = ("conversation_completeness", "user_frustration", "knowledge_retention")
SESSION_KEY = "mlflow.trace.session"  # trace metadata: the session id
USER_KEY = "mlflow.trace.user"  # trace metadata: the user id


def answer_turn(session_id: str, user_id: str, message: str, reply_fn: Callable[[str], str]) -> str:
    """One turn of the support chat, traced: returns ``reply_fn(message)``.

    The turn is one trace whose root span is named ``"chat_turn"``, with the inputs
    ``{"messages": [{"role": "user", "content": message}]}`` (this turn's message only,
    not the history: the judges rebuild the conversation from the session's traces) and
    the reply text as outputs; the trace belongs to session ``session_id`` and to user
    ``user_id`` (metadata ``SESSION_KEY`` and ``USER_KEY``).
    """
    with mlflow.start_span(name="chat_turn", span_type="CHAT_MODEL") as span:
        span.set_inputs({"messages": [{"role": "user", "content": message}]})
        mlflow.update_current_trace(session_id=session_id, user=user_id)
        reply = reply_fn(message)
        span.set_outputs(reply)
    return reply


def session_judges(judge_model: str) -> list[Scorer]:
    """MLflow's built-in session-level judges, each asking ``judge_model``, with their
    default names ``JUDGE_NAMES``:

    - ``ConversationCompleteness``: "yes"/"no", were all the user's requests handled?
    - ``UserFrustration``: "none", "resolved" or "unresolved";
    - ``KnowledgeRetention``: "yes"/"no", did the assistant keep what the user said
      (asks the model once per turn, then keeps the worst verdict).
    """
    return [
        ConversationCompleteness(model=judge_model),
        UserFrustration(model=judge_model),
        KnowledgeRetention(model=judge_model),
    ]


def evaluate_recent_sessions(judge_model: str, max_sessions: int) -> EvaluationResult:
    """Judge the ``max_sessions`` most recently active conversations of the active
    experiment with ``session_judges(judge_model)``.

    ``mlflow.search_sessions(max_results=max_sessions)`` gives the sessions whose latest
    turn is the most recent; their traces (all of them, every turn) are the data of
    ``mlflow.genai.evaluate``, without ``predict_fn``. MLflow groups them by session,
    asks each judge per session, and logs each verdict on the session's first trace.
    """
    sessions = mlflow.search_sessions(max_results=max_sessions)
    traces = [trace for session in sessions for trace in session]
    return mlflow.genai.evaluate(data=traces, scorers=session_judges(judge_model))


def session_report() -> list[dict[str, Any]]:
    """Every conversation of the active experiment with its verdicts, read from the store.

    One dict per session, in the order ``mlflow.search_sessions()`` gives them (the
    session with the most recent turn first)::

        {"session_id": ..., "user": <USER_KEY of its traces, or None>,
         "turns": <number of traces>, "verdicts": {judge name: value}}

    ``verdicts`` holds the ``JUDGE_NAMES`` feedbacks found on the session's traces
    (MLflow puts them on the first one), without failed ones; ``{}`` when the session
    was never judged. Traces outside any session are not listed.
    """
    report = []
    for session in mlflow.search_sessions():
        traces = list(session)
        verdicts = {
            a.name: a.value
            for trace in traces
            for a in trace.info.assessments
            if a.name in JUDGE_NAMES and a.feedback is not None and a.error is None
        }
        report.append(
            {
                "session_id": session.id,
                "user": traces[0].info.trace_metadata.get(USER_KEY) if traces else None,
                "turns": len(traces),
                "verdicts": verdicts,
            }
        )
    return report
