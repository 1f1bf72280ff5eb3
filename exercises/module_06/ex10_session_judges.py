"""Exercise 10: built-in conversation judges over sessions of traces.

A support chat records one trace per turn, tagged with its session and its user.
Later, the most recently active conversations are fetched as *sessions*
(``mlflow.search_sessions``) and judged as wholes by MLflow's built-in
session-level judges: ``ConversationCompleteness`` (were all requests handled?),
``UserFrustration`` (was the user frustrated, and was it resolved?) and
``KnowledgeRetention`` (did the assistant keep what the user told it?). A report
reads each session's verdicts back from the store.

The tests pass a judge model URI whose requests reach a fake judge model on
127.0.0.1; with your own key the same code asks OpenAI.

Build:

1. ``answer_turn(session_id, user_id, message, reply_fn)``: one traced turn.
2. ``session_judges(judge_model)``: the three built-in conversation judges.
3. ``evaluate_recent_sessions(judge_model, max_sessions)``: judge the most
   recently active conversations.
4. ``session_report()``: every conversation with its verdicts.

MLflow APIs practised: ``mlflow.start_span``, ``mlflow.update_current_trace(
session_id=, user=)``, ``mlflow.search_sessions``, ``mlflow.genai.scorers``
(``ConversationCompleteness``, ``UserFrustration``, ``KnowledgeRetention``),
``mlflow.genai.evaluate`` on existing traces.

Done looks like this: in the UI's **Sessions** view each conversation lists its
turns in order, and the first trace of each judged session carries the three
verdicts.

Run the checks: ``uv run pytest exercises/module_06/test_ex10_session_judges.py``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow  # noqa: F401 - you will need these
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import (  # noqa: F401
    ConversationCompleteness,
    KnowledgeRetention,
    UserFrustration,
)
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
    # TODO: open a span named "chat_turn", set its inputs (this turn's message as chat
    #       messages), put the trace in its session and user, set the reply as its outputs.
    raise NotImplementedError("answer_turn: not written yet (see the TODO above)")


def session_judges(judge_model: str) -> list[Scorer]:
    """MLflow's built-in session-level judges, each asking ``judge_model``, with their
    default names ``JUDGE_NAMES``:

    - ``ConversationCompleteness``: "yes"/"no", were all the user's requests handled?
    - ``UserFrustration``: "none", "resolved" or "unresolved";
    - ``KnowledgeRetention``: "yes"/"no", did the assistant keep what the user said
      (asks the model once per turn, then keeps the worst verdict).
    """
    # TODO: build the three judges of mlflow.genai.scorers, passing model=judge_model to each.
    raise NotImplementedError("session_judges: not written yet (see the TODO above)")


def evaluate_recent_sessions(judge_model: str, max_sessions: int) -> EvaluationResult:
    """Judge the ``max_sessions`` most recently active conversations of the active
    experiment with ``session_judges(judge_model)``.

    ``mlflow.search_sessions(max_results=max_sessions)`` gives the sessions whose latest
    turn is the most recent; their traces (all of them, every turn) are the data of
    ``mlflow.genai.evaluate``, without ``predict_fn``. MLflow groups them by session,
    asks each judge per session, and logs each verdict on the session's first trace.
    """
    # TODO: search the recent sessions, flatten them to their traces, and evaluate those
    #       traces with the judges (no predict_fn).
    raise NotImplementedError("evaluate_recent_sessions: not written yet (see the TODO above)")


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
    # TODO: one dict per session of mlflow.search_sessions(), verdicts read from the
    #       assessments of its traces.
    raise NotImplementedError("session_report: not written yet (see the TODO above)")
