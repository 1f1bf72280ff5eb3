"""Reference solution for module_04/ex09_agent_server: the support agent served by MLflow's
AgentServer (``mlflow.genai.agent_server``), and a client that reads its answers, its
stream and its trace ids.

The agent is a ``ResponsesAgent`` that calls the OpenAI chat completions API at
``OPENAI_BASE_URL`` (the kit's fake server in the tests). The server is a FastAPI app made
by ``AgentServer``: ``POST /invocations`` (and ``POST /responses``) answers, with
``"stream": true`` in the body as server-sent events.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass, field

import httpx
import mlflow
import openai
from mlflow.genai.agent_server import AgentServer, get_request_headers, invoke, stream
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


def _keep_request_id() -> None:
    """Record the request's ``x-request-id`` header (if any) as the trace's client_request_id."""
    request_id = get_request_headers().get(REQUEST_ID_HEADER)
    if request_id:
        mlflow.update_current_trace(client_request_id=request_id)


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
    agent = agent if agent is not None else _SupportAgent()
    mlflow.openai.autolog()

    @invoke()
    def answer(request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        _keep_request_id()
        return agent.predict(request)

    @stream()
    def answer_stream(
        request: ResponsesAgentRequest,
    ) -> Generator[ResponsesAgentStreamEvent, None, None]:
        _keep_request_id()
        yield from agent.predict_stream(request)

    return AgentServer("ResponsesAgent")


# --- the exercise: the client --------------------------------------------------------------------


@dataclass
class AgentReply:
    """What a client got back for one question."""

    text: str  # the answer's text
    trace_id: str | None  # the server's trace for the request (None if it sent none)
    deltas: list[str] = field(default_factory=list)  # streamed text pieces, in order


def _request(question: str, request_id: str | None) -> tuple[dict, dict]:
    body = {"input": [{"role": "user", "content": question}]}
    headers = {RETURN_TRACE_HEADER: "true"}
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return body, headers


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
    body, headers = _request(question, request_id)
    response = client.post("/invocations", json=body, headers=headers)
    response.raise_for_status()
    payload = response.json()
    text = "".join(_output_text(item) for item in payload.get("output") or [])
    return AgentReply(text=text, trace_id=(payload.get("metadata") or {}).get("trace_id"))


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
    body, headers = _request(question, request_id)
    deltas: list[str] = []
    done_text: str | None = None
    trace_id = None
    with client.stream(
        "POST", "/invocations", json={**body, "stream": True}, headers=headers
    ) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                break
            event = json.loads(data)
            if "error" in event:
                raise RuntimeError(f"the agent failed: {event['error']}")
            if event.get("type") == "response.output_text.delta":
                deltas.append(event.get("delta", ""))
            elif event.get("type") == "response.output_item.done":
                done_text = (done_text or "") + _output_text(event.get("item") or {})
            elif "trace_id" in event:
                trace_id = event["trace_id"]
    text = done_text if done_text is not None else "".join(deltas)
    return AgentReply(text=text, trace_id=trace_id, deltas=deltas)
