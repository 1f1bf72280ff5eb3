"""Exercise 9: serve the agent with MLflow's AgentServer, and call it.

Exercise 4 built a ``ResponsesAgent``; serving it takes an HTTP layer: routes, request
validation, server-sent events for the stream, one trace per request. MLflow ships that
layer: ``mlflow.genai.agent_server.AgentServer`` makes a FastAPI app around one function
registered with ``@invoke()`` (answers ``POST /invocations``) and one registered with
``@stream()`` (the same route with ``"stream": true`` in the body, as server-sent events:
``data: <json>`` per event, then ``data: [DONE]``). With
``AgentServer("ResponsesAgent")`` it validates every request as a
``ResponsesAgentRequest``, serves ``POST /responses`` for OpenAI's Responses clients too,
and traces each request: a span named after your function around everything the agent
traced.

The agent is given (``_SupportAgent``: one chat completion per request, at
``OPENAI_BASE_URL``; the kit's fake OpenAI server in the tests). Build:

1. ``create_server(agent)``: the ``AgentServer`` for it, with the request's
   ``x-request-id`` header kept on the trace and every model call traced.
2. ``ask(client, question)``: a client for ``POST /invocations`` that returns the answer
   and the trace id the server sends back when asked (``x-mlflow-return-trace-id``).
3. ``ask_streaming(client, question)``: the same, streamed: read the events as they come.

MLflow APIs practised: ``mlflow.genai.agent_server`` (``AgentServer``, ``invoke``,
``stream``, ``get_request_headers``), ``mlflow.update_current_trace(client_request_id=)``,
``mlflow.openai.autolog``, ``ResponsesAgent``.

Done looks like this: each request is one trace in the UI (the server's span, the
agent's AGENT span, the model's CHAT_MODEL span with its tokens), findable by its
request id; a client gets the answer, the streamed pieces and the trace id to log
feedback on.

Run the checks: ``uv run pytest exercises/module_04/test_ex09_agent_server.py``
"""

from __future__ import annotations

import json  # noqa: F401 - each event's data is JSON
from collections.abc import Generator
from dataclasses import dataclass, field

import httpx
import mlflow  # noqa: F401 - you will need these
import openai
from mlflow.genai.agent_server import AgentServer, get_request_headers, invoke, stream  # noqa: F401
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import (
    ResponsesAgentRequest,
    ResponsesAgentResponse,
    ResponsesAgentStreamEvent,
)

MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = "You are a support agent for MLflow users. Answer in one or two sentences."
REQUEST_ID_HEADER = "x-request-id"  # the client's id for a request, kept on its trace
RETURN_TRACE_HEADER = "x-mlflow-return-trace-id"  # "true": the server sends the trace id back
ANSWER_ID = "answer"  # the id of the agent's output message


# --- ready-made: the agent to serve ----------------------------------------------------------


class _SupportAgent(ResponsesAgent):
    """One chat completion per request; ``predict_stream`` sends the answer as it arrives.

    ``predict`` and ``predict_stream`` are traced as AGENT spans by ``ResponsesAgent``;
    the OpenAI calls become CHAT_MODEL spans once ``mlflow.openai.autolog()`` is on.
    """

    def _messages(self, request: ResponsesAgentRequest) -> list[dict]:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}]
        for item in request.input:
            role, content = getattr(item, "role", None), getattr(item, "content", None)
            if role in ("user", "assistant") and isinstance(content, str):
                messages.append({"role": role, "content": content})
        return messages

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        completion = openai.OpenAI().chat.completions.create(
            model=MODEL, messages=self._messages(request)
        )
        text = completion.choices[0].message.content or ""
        return ResponsesAgentResponse(output=[self.create_text_output_item(text, id=ANSWER_ID)])

    def predict_stream(
        self, request: ResponsesAgentRequest
    ) -> Generator[ResponsesAgentStreamEvent, None, None]:
        chunks = openai.OpenAI().chat.completions.create(
            model=MODEL,
            messages=self._messages(request),
            stream=True,
            stream_options={"include_usage": True},  # so the trace gets token usage
        )
        parts = []
        for chunk in chunks:
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                parts.append(delta)
                yield ResponsesAgentStreamEvent(**self.create_text_delta(delta, item_id=ANSWER_ID))
        yield ResponsesAgentStreamEvent(
            type="response.output_item.done",
            item=self.create_text_output_item("".join(parts), id=ANSWER_ID),
        )


# --- the exercise: the server ------------------------------------------------------------------


def create_server(agent: ResponsesAgent | None = None) -> AgentServer:
    """An ``AgentServer`` for ``agent`` (default: ``_SupportAgent()``); its FastAPI app is
    ``server.app``.

    - ``AgentServer("ResponsesAgent")``: requests are validated as ``ResponsesAgentRequest``
      (a malformed one is a 400), ``POST /responses`` is served beside ``/invocations``,
      and a streamed answer is recorded on the trace as one whole response;
    - one function registered with ``@invoke()`` returns ``agent.predict(request)``, one
      registered with ``@stream()`` yields the events of ``agent.predict_stream(request)``;
    - both record the request's ``x-request-id`` header as the trace's
      ``client_request_id`` (``get_request_headers()``, ``mlflow.update_current_trace``);
    - ``mlflow.openai.autolog()`` is on, so every model call is a CHAT_MODEL span with its
      token usage, under the agent's AGENT span, under the server's span for the request.

    ``@invoke()`` and ``@stream()`` register one function each per process (a second
    registration raises ``ValueError``): one process serves one agent.
    """
    # TODO: mlflow.openai.autolog(); an @invoke() function and an @stream() function
    #       (both keep the x-request-id header on the trace); return AgentServer(...).
    raise NotImplementedError("create_server: not written yet (see the TODO above)")


# --- the exercise: the client --------------------------------------------------------------------


@dataclass
class AgentReply:
    """What a client got back for one question."""

    text: str  # the answer's text
    trace_id: str | None  # the server's trace for the request (None if it sent none)
    deltas: list[str] = field(default_factory=list)  # streamed text pieces, in order


def _output_text(item: dict) -> str:
    return "".join(
        part.get("text", "")
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


def ask(client: httpx.Client, question: str, request_id: str | None = None) -> AgentReply:
    """Ask the served agent one question with ``POST /invocations`` (not streamed).

    ``client`` is an ``httpx.Client`` whose ``base_url`` is the server (FastAPI's
    ``TestClient`` has the same API). The body is ``{"input": [{"role": "user",
    "content": question}]}``; the headers ask for the trace id
    (``x-mlflow-return-trace-id: true``) and carry ``x-request-id`` only when
    ``request_id`` is given. An HTTP error raises ``httpx.HTTPStatusError``
    (``response.raise_for_status()``). Returns the text of the answer's ``output_text``
    parts (all output items, in order), the trace id from the response's
    ``metadata.trace_id``, and no deltas.
    """
    # TODO: client.post("/invocations", json=..., headers=...), raise_for_status(),
    #       then the text and metadata.trace_id of the JSON.
    raise NotImplementedError("ask: not written yet (see the TODO above)")


def ask_streaming(client: httpx.Client, question: str, request_id: str | None = None) -> AgentReply:
    """Ask the served agent one question with ``"stream": true`` and read the server-sent
    events as they arrive (``client.stream(...)``), until ``data: [DONE]``.

    Same body and headers as ``ask``. Each event is a ``data: <json>`` line:
    ``response.output_text.delta`` events give the deltas (in order),
    ``response.output_item.done`` the whole message (its ``output_text`` is the reply's
    text; the deltas joined when no such event came), ``{"trace_id": ...}`` the trace id,
    and ``{"error": ...}`` a failure of the agent, which raises ``RuntimeError`` with that
    message. An HTTP error raises ``httpx.HTTPStatusError`` (``raise_for_status()``).
    """
    # TODO: with client.stream("POST", "/invocations", json={..., "stream": True},
    #       headers=...) as response: raise_for_status(), then response.iter_lines().
    raise NotImplementedError("ask_streaming: not written yet (see the TODO above)")
