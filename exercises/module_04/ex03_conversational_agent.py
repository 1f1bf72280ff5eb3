"""Exercise 3: a conversational agent, with memory, sessions and users in its traces.

A chat model has no memory: every call sees only the messages you send it. A
conversational agent keeps the conversation (its *state*) and sends all of it,
turn after turn. MLflow records each turn as its own trace; to see a
conversation as a whole, every turn's trace carries the same *session id*, and
the *user* it served. ``mlflow.update_current_trace(session_id=..., user=...)``
stores them as the standard trace metadata ``mlflow.trace.session`` and
``mlflow.trace.user``: the MLflow UI groups traces into sessions by them, and
``mlflow.search_traces`` can filter on them:

    mlflow.search_traces(filter_string="metadata.`mlflow.trace.session` = 'abc'")

Build:

1. ``ChatAgent.ask(message)``: one turn, with memory. The model gets the system
   prompt, the whole conversation so far and the new message; the reply joins
   the memory. One trace per turn, carrying the session id and the user.
2. ``conversation(session_id)``: the turns of one session, read back from
   MLflow in the order they happened, even when other sessions' traces are
   interleaved and the traces were written out of order.

In the tests the model is a scripted fake chat model; a real ``ChatOpenAI`` or
``ChatOllama`` works the same.

MLflow APIs practised: ``@mlflow.trace`` on a method, ``mlflow.update_current_trace``,
``mlflow.search_traces(filter_string=..., order_by=...)``, ``Trace.data``.

Done looks like this: the UI's Sessions view shows one session per ``ChatAgent``,
its turns in order, with the user; ``conversation`` replays it from the store.

Run the checks: ``uv run pytest exercises/module_04/test_ex03_conversational_agent.py``
"""

from __future__ import annotations

import json  # noqa: F401 - Trace.data.request and .response are JSON text

import mlflow  # noqa: F401
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401

SYSTEM_PROMPT = "You are a friendly assistant. Keep your answers short."


class ChatAgent:
    """A chat agent that remembers the conversation of one session."""

    def __init__(self, model: BaseChatModel, session_id: str, user: str) -> None:
        self.model = model
        self.session_id = session_id
        self.user = user
        # The memory: every message so far, starting with the system prompt.
        self.history: list[BaseMessage] = [SystemMessage(SYSTEM_PROMPT)]

    def ask(self, message: str) -> str:
        """Answer one user message, in the context of the whole conversation so far.

        The model gets the system prompt, every earlier message and reply of this
        session, and the new message; the reply joins the memory. Each turn is one
        trace whose root span has ``message`` as its input and the reply as its
        output, and which carries the session id and the user (MLflow's
        ``mlflow.trace.session`` and ``mlflow.trace.user`` metadata).
        """
        # TODO: trace this method (AGENT); set the trace's session_id and user; append the
        #       message to self.history as a HumanMessage, invoke the model with the whole
        #       history, append its reply, and return the reply's text.
        raise NotImplementedError("ChatAgent.ask: not written yet (see the TODO above)")


def conversation(session_id: str) -> list[tuple[str, str]]:
    """The turns of one session, read back from MLflow, oldest first:
    ``[(user message, agent reply), ...]``.

    Search the current experiment's traces for those of ``session_id`` and order
    them by their start time; the message is the root span's ``message`` input
    and the reply its output.
    """
    # TODO: mlflow.search_traces with a filter on the session metadata and an order_by on
    #       the timestamp, return_type="list"; read each trace's request and response.
    raise NotImplementedError("conversation: not written yet (see the TODO above)")
