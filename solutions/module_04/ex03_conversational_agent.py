"""Reference solution for module_04/ex03_conversational_agent: memory across turns, every
turn's trace tagged with its session and user, and a conversation read back from MLflow."""

from __future__ import annotations

import json

import mlflow
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from mlflow.entities import SpanType

SYSTEM_PROMPT = "You are a friendly assistant. Keep your answers short."


class ChatAgent:
    """A chat agent that remembers the conversation of one session."""

    def __init__(self, model: BaseChatModel, session_id: str, user: str) -> None:
        self.model = model
        self.session_id = session_id
        self.user = user
        # The memory: every message so far, starting with the system prompt.
        self.history: list[BaseMessage] = [SystemMessage(SYSTEM_PROMPT)]

    @mlflow.trace(name="chat_turn", span_type=SpanType.AGENT)
    def ask(self, message: str) -> str:
        """Answer one user message, in the context of the whole conversation so far.

        The model gets the system prompt, every earlier message and reply of this
        session, and the new message; the reply joins the memory. Each turn is one
        trace whose root span has ``message`` as its input and the reply as its
        output, and which carries the session id and the user (MLflow's
        ``mlflow.trace.session`` and ``mlflow.trace.user`` metadata).
        """
        # session_id and user become the trace's standard session and user metadata,
        # which the MLflow UI groups by and search_traces can filter on.
        mlflow.update_current_trace(session_id=self.session_id, user=self.user)
        self.history.append(HumanMessage(message))
        reply = self.model.invoke(self.history)
        self.history.append(AIMessage(reply.content))
        return reply.content


def conversation(session_id: str) -> list[tuple[str, str]]:
    """The turns of one session, read back from MLflow, oldest first:
    ``[(user message, agent reply), ...]``.

    Search the current experiment's traces for those of ``session_id`` and order
    them by their start time; the message is the root span's ``message`` input
    and the reply its output.
    """
    traces = mlflow.search_traces(
        filter_string=f"metadata.`mlflow.trace.session` = '{session_id}'",
        order_by=["timestamp_ms ASC"],
        return_type="list",
    )
    return [
        (json.loads(trace.data.request)["message"], json.loads(trace.data.response))
        for trace in traces
    ]
