"""Checks for ex09_agent_server: the support agent behind MLflow's AgentServer, called over
HTTP (with FastAPI's TestClient, which runs the real app, and once through a real uvicorn
server on 127.0.0.1), with its traces. The agent's model is the kit's fake OpenAI server.

The plugin forgets AgentServer's ``@invoke()`` / ``@stream()`` registrations between
tests (``checker.isolation``): each test's ``create_server`` registers afresh.
"""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mlflow.entities import SpanType
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import ResponsesAgentResponse, ResponsesAgentStreamEvent

from fixtures.messages import shown
from fixtures.production import sse_data
from fixtures.serving import serve_app
from fixtures.traces import find_spans, root_span, search_traces, span_tree, trace_status

QUESTION = "What replaced model stages in the registry?"
ANSWER = "Aliases such as champion replaced stages."
BODY = {"input": [{"role": "user", "content": QUESTION}]}


class _BrokenAgent(ResponsesAgent):
    def predict(self, request):
        raise RuntimeError("the knowledge base is down")

    def predict_stream(self, request):
        raise RuntimeError("the knowledge base is down")
        yield  # a generator, as predict_stream must be


class _TwoMessagesAgent(ResponsesAgent):
    """Answers with two message items; streams only text deltas, with no done item."""

    def predict(self, request):
        return ResponsesAgentResponse(
            output=[
                self.create_text_output_item("Aliases replaced stages. ", id="m1"),
                self.create_text_output_item("Use champion.", id="m2"),
            ]
        )

    def predict_stream(self, request):
        for piece in ("Aliases ", "replaced ", "stages."):
            yield ResponsesAgentStreamEvent(**self.create_text_delta(piece, item_id="m1"))


def client_for(exercise, agent=None):
    server = exercise.create_server(agent) if agent is not None else exercise.create_server()
    app = getattr(server, "app", None)
    assert app is not None, (
        f"expected create_server() to return an AgentServer; got {shown(server)}"
    )
    return TestClient(app, raise_server_exceptions=False)


def output_text(payload):
    return "".join(
        part.get("text", "")
        for item in (payload or {}).get("output") or []
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


def events_of(response):
    return [p if p == "[DONE]" else json.loads(p) for p in sse_data(response.text)]


# --- the endpoints ----------------------------------------------------------------------------


def test_invocations_answers_with_the_agents_text(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        response = client.post("/invocations", json=BODY)

    assert response.status_code == 200, f"expected 200; got {response.status_code} {response.text}"
    assert output_text(response.json()) == ANSWER, (
        f"expected the model's answer {ANSWER!r} as the output text; got {response.text}"
    )
    sent = fake_llm_env.chat_requests[0].body["messages"] if fake_llm_env.chat_requests else []
    assert sent and sent[-1].get("content") == QUESTION, (
        f"expected the question to reach the model; it was sent {shown(sent)}"
    )


def test_the_responses_endpoint_serves_the_same_agent(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        response = client.post("/responses", json=BODY)

    assert response.status_code == 200 and output_text(response.json()) == ANSWER, (
        f"expected POST /responses (OpenAI's Responses API path, served for a "
        f"'ResponsesAgent' server) to answer {ANSWER!r}; got {response.status_code} "
        f"{response.text[:300]}"
    )


def test_a_malformed_request_is_refused_with_400(exercise, fake_llm_env):
    with client_for(exercise) as client:
        response = client.post("/invocations", json={"input": QUESTION})  # not a list

    assert response.status_code == 400, (
        f"expected a request that is not a ResponsesAgentRequest to be refused with 400 "
        f"before the agent runs; got {response.status_code} {response.text[:300]}"
    )
    assert fake_llm_env.chat_requests == [], "expected the model never to be called"


def test_streaming_sends_text_deltas_then_the_whole_message_then_done(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        response = client.post("/invocations", json={**BODY, "stream": True})

    assert response.status_code == 200, f"expected 200; got {response.status_code} {response.text}"
    assert response.headers.get("content-type", "").startswith("text/event-stream"), (
        f"expected server-sent events; got content-type {response.headers.get('content-type')}"
    )
    events = events_of(response)
    types = [e.get("type") if isinstance(e, dict) else e for e in events]
    deltas = [
        e["delta"] for e in events if isinstance(e, dict) and e.get("type", "").endswith(".delta")
    ]
    assert len(deltas) > 1 and "".join(deltas) == ANSWER, (
        f"expected several response.output_text.delta events joining to {ANSWER!r}; got "
        f"{shown(deltas)}"
    )
    assert types[-2:] == ["response.output_item.done", "[DONE]"], (
        f"expected the whole message (response.output_item.done), then [DONE], at the end; "
        f"got the events {types}"
    )


# --- the traces -------------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
def test_each_request_is_one_trace_of_request_agent_and_model_spans(
    exercise, fake_llm_env, streamed
):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        client.post("/invocations", json={**BODY, "stream": streamed})

    traces = search_traces()
    assert len(traces) == 1, f"expected one trace for the request; found {len(traces)}"
    trace = traces[0]
    root = root_span(trace)
    agents = find_spans(trace, span_type=SpanType.AGENT)
    models = find_spans(trace, span_type=SpanType.CHAT_MODEL)
    assert agents and agents[0].parent_id == root.span_id, (
        f"expected the agent's AGENT span under the server's span for the request; found "
        f"spans:\n{span_tree(trace)}"
    )
    assert models and models[0].parent_id == agents[0].span_id, (
        f"expected the model call as a CHAT_MODEL span under the agent (which autolog?); "
        f"found spans:\n{span_tree(trace)}"
    )
    usage = trace.info.token_usage or {}
    assert usage.get("total_tokens", 0) > 0, f"expected token usage on the trace; found {usage}"


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
def test_the_request_id_header_becomes_the_traces_client_request_id(
    exercise, fake_llm_env, streamed
):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        client.post(
            "/invocations", json={**BODY, "stream": streamed}, headers={"x-request-id": "req-7"}
        )

    found = [t.info.client_request_id for t in search_traces()]
    assert found == ["req-7"], (
        f"expected one trace with client_request_id 'req-7' (the x-request-id header); "
        f"found {found}"
    )


def test_a_streamed_answer_is_recorded_whole_on_the_trace(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        client.post("/invocations", json={**BODY, "stream": True})

    trace = search_traces()[0]
    recorded = output_text(root_span(trace).outputs)
    assert recorded == ANSWER, (
        f"expected the request span's output to be the whole answer {ANSWER!r} (an "
        f"AgentServer for a 'ResponsesAgent' aggregates the stream); found "
        f"{shown(root_span(trace).outputs)}"
    )


def test_a_failing_agent_gives_500_and_an_error_trace(exercise, fake_llm_env):
    with client_for(exercise, _BrokenAgent()) as client:
        response = client.post("/invocations", json=BODY)

    assert response.status_code == 500 and "knowledge base is down" in response.text, (
        f"expected a 500 that says what failed; got {response.status_code} {response.text}"
    )
    statuses = [trace_status(t) for t in search_traces()]
    assert statuses == ["ERROR"], f"expected one ERROR trace; found {statuses}"


# --- the client -------------------------------------------------------------------------------


def test_ask_returns_the_answer_and_the_servers_trace_id(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER)

    with client_for(exercise) as client:
        reply = exercise.ask(client, QUESTION, request_id="req-1")

    traces = search_traces()
    assert getattr(reply, "text", None) == ANSWER, f"expected text {ANSWER!r}; got {shown(reply)}"
    assert traces and getattr(reply, "trace_id", None) == traces[0].info.trace_id, (
        f"expected the trace id of the request ({traces[0].info.trace_id if traces else None}), "
        f"sent back when asked with the x-mlflow-return-trace-id header; got {shown(reply)}"
    )


def test_ask_streaming_over_real_http_collects_the_deltas_and_the_trace_id(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER)
    server = exercise.create_server()

    with serve_app(server.app) as url, httpx.Client(base_url=url, timeout=30) as client:
        reply = exercise.ask_streaming(client, QUESTION)

    deltas = getattr(reply, "deltas", None) or []
    assert len(deltas) > 1 and "".join(deltas) == ANSWER == getattr(reply, "text", None), (
        f"expected several deltas joining to the text {ANSWER!r}; got {shown(reply)}"
    )
    traces = search_traces()
    assert traces and getattr(reply, "trace_id", None) == traces[0].info.trace_id, (
        f"expected the trace id from the stream's {{'trace_id': ...}} event; got {shown(reply)}"
    )


def test_ask_streaming_raises_when_the_agent_fails_mid_stream(exercise, fake_llm_env):
    with client_for(exercise, _BrokenAgent()) as client:
        try:
            reply = exercise.ask_streaming(client, QUESTION)
        except RuntimeError as err:
            message = str(err)
        else:
            message = None
            pytest.fail(
                f"expected RuntimeError for the stream's error event; got {shown(reply)}",
                pytrace=False,
            )

    assert "knowledge base is down" in message, f"expected the agent's error; got {message!r}"
    statuses = [trace_status(t) for t in search_traces()]
    assert statuses == ["ERROR"], f"expected one ERROR trace for the stream; found {statuses}"


def test_ask_sends_the_request_id_only_when_given(exercise, fake_llm_env):
    fake_llm_env.script(ANSWER, ANSWER)

    with client_for(exercise) as client:
        exercise.ask(client, QUESTION, request_id="req-1")
        exercise.ask(client, QUESTION)

    found = [t.info.client_request_id for t in search_traces()]
    assert found == ["req-1", None], (
        f"expected the traces' client_request_id to be 'req-1' (sent as x-request-id), then "
        f"None (no request_id, no header); found {shown(found)}"
    )


def test_ask_joins_the_text_of_every_output_item(exercise):
    with client_for(exercise, _TwoMessagesAgent()) as client:
        reply = exercise.ask(client, QUESTION)

    expected = "Aliases replaced stages. Use champion."
    assert getattr(reply, "text", None) == expected, (
        f"expected the output_text of both output items, in order: {expected!r}; got {shown(reply)}"
    )


def test_ask_raises_on_an_http_error(exercise):
    with serve_app(FastAPI()) as url, httpx.Client(base_url=url, timeout=30) as client:
        try:  # a server without the route: 404
            reply = exercise.ask(client, QUESTION)
        except httpx.HTTPStatusError:
            return
    pytest.fail(
        f"expected httpx.HTTPStatusError for a 404 from the server; got {shown(reply)}",
        pytrace=False,
    )


def test_ask_streaming_joins_the_deltas_when_no_whole_message_comes(exercise):
    with client_for(exercise, _TwoMessagesAgent()) as client:
        reply = exercise.ask_streaming(client, QUESTION)

    expected = "Aliases replaced stages."
    assert getattr(reply, "text", None) == expected, (
        f"expected the deltas joined, {expected!r}, as the text of a stream that sent no "
        f"response.output_item.done; got {shown(reply)}"
    )


def test_ask_streaming_raises_on_an_http_error(exercise):
    with serve_app(FastAPI()) as url, httpx.Client(base_url=url, timeout=30) as client:
        try:  # a server without the route: 404
            reply = exercise.ask_streaming(client, QUESTION)
        except httpx.HTTPStatusError:
            return
    pytest.fail(
        f"expected httpx.HTTPStatusError for a 404 from the server; got {shown(reply)}",
        pytrace=False,
    )
