"""Reference solution for module_06/ex05_multi_turn: judging whole conversations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.judges import Judge, make_judge

GOAL_JUDGE = "goal_reached"
CONSISTENCY_JUDGE = "no_contradiction"
SESSION_KEY = "mlflow.trace.session"  # where a trace keeps its session id (metadata)


def run_conversation(
    session_id: str, user_messages: list[str], reply_fn: Callable[[list[dict]], str]
) -> list[str]:
    """Play one conversation, one trace per turn, all in the session ``session_id``.

    For each user message: append ``{"role": "user", "content": message}`` to the
    history, get the assistant's reply with ``reply_fn(history)`` (the whole
    conversation so far), append ``{"role": "assistant", "content": reply}``. Each
    turn is one trace whose inputs are ``{"message": <the user message>}``, whose
    output is the reply, and whose session is ``session_id``. Returns the replies.
    """
    history: list[dict] = []
    replies = []
    for message in user_messages:
        history.append({"role": "user", "content": message})
        with mlflow.start_span(name="chat_turn", span_type="CHAT_MODEL") as span:
            span.set_inputs({"message": message})
            # The session id groups the turns' traces into one conversation.
            mlflow.update_current_trace(session_id=session_id)
            reply = reply_fn(list(history))
            span.set_outputs(reply)
        history.append({"role": "assistant", "content": reply})
        replies.append(reply)
    return replies


def conversation_judges(judge_model: str) -> list[Judge]:
    """Two judges of a whole conversation (session-level judges), asking ``judge_model``:

    - ``GOAL_JUDGE``: did the user reach the goal they came with?
    - ``CONSISTENCY_JUDGE``: does the assistant never contradict itself?

    Each sees the whole conversation (the template variable ``{{ conversation }}``)
    and gives a true/false verdict.
    """
    goal = make_judge(
        name=GOAL_JUDGE,
        instructions=(
            "Read this conversation between a user and an assistant:\n{{ conversation }}\n"
            "By the end of it, did the user get what they came for? Answer true or false."
        ),
        feedback_value_type=bool,
        model=judge_model,
    )
    consistent = make_judge(
        name=CONSISTENCY_JUDGE,
        instructions=(
            "Read this conversation between a user and an assistant:\n{{ conversation }}\n"
            "Does the assistant stay consistent, never contradicting what it said in "
            "earlier turns? Answer true or false."
        ),
        feedback_value_type=bool,
        model=judge_model,
    )
    return [goal, consistent]


def evaluate_conversations(judge_model: str) -> EvaluationResult:
    """Evaluate every conversation of the active experiment with ``conversation_judges``.

    The data is the experiment's traces themselves (no ``predict_fn``: the
    conversations already happened). MLflow groups the traces by session, asks each
    judge once per session, and stores the verdict on the session's first trace.
    """
    traces = mlflow.search_traces(return_type="list")
    return mlflow.genai.evaluate(data=traces, scorers=conversation_judges(judge_model))


def session_verdicts() -> dict[str, dict[str, Any]]:
    """The conversation judges' verdicts of the active experiment, read from the store:
    ``{session_id: {judge name: value}}`` for every session that was judged.

    A session-level verdict is an assessment on one trace of the session (its
    first), named after the judge; the trace's metadata ``SESSION_KEY`` says which
    session it is.
    """
    verdicts: dict[str, dict[str, Any]] = {}
    for trace in mlflow.search_traces(return_type="list"):
        session = trace.info.trace_metadata.get(SESSION_KEY)
        for assessment in trace.info.assessments:
            if session and assessment.name in (GOAL_JUDGE, CONSISTENCY_JUDGE):
                verdicts.setdefault(session, {})[assessment.name] = assessment.value
    return verdicts
