"""Exercise 5: judging whole conversations, not single answers.

A chat assistant can answer every turn well and still fail the user: never
get them where they wanted, or say one thing and then the opposite. Such
qualities live in the *conversation*. In MLflow a conversation is a
*session*: the traces of its turns share a session id (trace metadata
``mlflow.trace.session``). A *session-level judge* reads all the turns of a
session at once; ``mlflow.genai.evaluate`` groups the traces by session, asks
such a judge once per session, and stores its verdict on the session's first
trace.

Build:

1. ``run_conversation(session_id, user_messages, reply_fn)``: play a
   conversation, one trace per turn, all in one session.
2. ``conversation_judges(judge_model)``: two session-level judges, "did the
   user reach their goal?" and "did the assistant never contradict itself?".
3. ``evaluate_conversations(judge_model)``: judge every conversation recorded
   in the active experiment.
4. ``session_verdicts()``: read the verdicts back, per session.

MLflow APIs practised: ``mlflow.start_span`` / ``@mlflow.trace``,
``mlflow.update_current_trace(session_id=...)``, ``make_judge`` with
``{{ conversation }}``, ``mlflow.genai.evaluate(data=<traces>)`` without a
``predict_fn``, ``mlflow.search_traces``.

Done looks like this: in the UI, the experiment's **Sessions** view lists the
conversations; the first trace of each carries the two conversation verdicts.

Run the checks: ``uv run pytest exercises/module_06/test_ex05_multi_turn.py``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow  # noqa: F401 - you will need these
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.judges import Judge, make_judge  # noqa: F401

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
    # TODO: for each message, open a span (one trace per turn), set its inputs, put the
    #       trace in the session, call reply_fn with the history, set the outputs.
    raise NotImplementedError("run_conversation: not written yet (see the TODO above)")


def conversation_judges(judge_model: str) -> list[Judge]:
    """Two judges of a whole conversation (session-level judges), asking ``judge_model``:

    - ``GOAL_JUDGE``: did the user reach the goal they came with?
    - ``CONSISTENCY_JUDGE``: does the assistant never contradict itself?

    Each sees the whole conversation (the template variable ``{{ conversation }}``)
    and gives a true/false verdict.
    """
    # TODO: two make_judge(...) judges whose instructions use {{ conversation }}.
    raise NotImplementedError("conversation_judges: not written yet (see the TODO above)")


def evaluate_conversations(judge_model: str) -> EvaluationResult:
    """Evaluate every conversation of the active experiment with ``conversation_judges``.

    The data is the experiment's traces themselves (no ``predict_fn``: the
    conversations already happened). MLflow groups the traces by session, asks each
    judge once per session, and stores the verdict on the session's first trace.
    """
    # TODO: search the traces and pass them to mlflow.genai.evaluate as data.
    raise NotImplementedError("evaluate_conversations: not written yet (see the TODO above)")


def session_verdicts() -> dict[str, dict[str, Any]]:
    """The conversation judges' verdicts of the active experiment, read from the store:
    ``{session_id: {judge name: value}}`` for every session that was judged.

    A session-level verdict is an assessment on one trace of the session (its
    first), named after the judge; the trace's metadata ``SESSION_KEY`` says which
    session it is.
    """
    # TODO: go through the traces, read their session id and their judges' assessments.
    raise NotImplementedError("session_verdicts: not written yet (see the TODO above)")
