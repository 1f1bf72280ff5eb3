"""Checks for ex09_distributed_tracing: one trace across a gateway and a retriever service.

Both services run for real (uvicorn on 127.0.0.1, in threads of the test process) and
talk over HTTP. Each side is also checked alone: the gateway against a recording
retriever that traces nothing, the retriever with the test as its caller. The last
test runs the retriever in a process of its own (a few seconds: it imports MLflow).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import mlflow
from fastapi import FastAPI, Request
from mlflow.tracing import get_tracing_context_headers_for_http_request

from fixtures.messages import shown
from fixtures.serving import serve_app
from fixtures.traces import find_span, parent_of, root_span, search_traces, span_tree

QUESTION = "How do I link a prompt version to a trace?"
GATEWAY_ROOT, GATEWAY_CALL, RETRIEVER = "gateway.ask", "gateway.call_retriever", "retriever.search"
CANNED_SOURCES = ["mlflow_prompt_registry.md", "mlflow_tracing.md"]
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def _trees(traces) -> str:
    return "\n".join(span_tree(t) for t in traces) or "no traces"


def _recording_retriever(seen: list[dict]) -> FastAPI:
    """A retriever stand-in that records each request (headers, body) and traces nothing."""
    app = FastAPI()

    @app.post("/search")
    def search(body: dict, request: Request) -> dict:
        seen.append({"headers": dict(request.headers), "body": body})
        return {"sources": CANNED_SOURCES}

    return app


def _ask_through_recording_retriever(exercise, question: str = QUESTION):
    """Ask the learner's gateway once, with a recording retriever behind it."""
    seen: list[dict] = []
    with serve_app(_recording_retriever(seen)) as retriever_url:
        gateway = exercise.create_gateway_app(retriever_url)  # the learner's code
        with serve_app(gateway) as url:
            response = httpx.post(f"{url}/ask", json={"question": question}, timeout=30)
    assert response.status_code == 200, (
        f"expected POST /ask to answer 200; got {response.status_code}: {response.text[:300]}"
    )
    return response.json(), seen


# --- both services -------------------------------------------------------------------


def test_one_question_through_the_gateway_is_one_trace_across_both_services(exercise):
    retriever = exercise.create_retriever_app()  # the learner's code first
    with serve_app(retriever) as retriever_url:
        gateway = exercise.create_gateway_app(retriever_url)
        with serve_app(gateway) as url:
            response = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30)

    assert response.status_code == 200, (
        f"expected POST /ask to answer 200; got {response.status_code}: {response.text[:300]}"
    )
    traces = search_traces()
    assert len(traces) == 1, (
        f"expected ONE trace for one question, holding the spans of both services; found "
        f"{len(traces)}:\n{_trees(traces)}\nA second trace means the retriever did not "
        "receive (or did not use) the caller's traceparent header."
    )
    names = {span.name for span in traces[0].data.spans}
    assert {GATEWAY_ROOT, GATEWAY_CALL, RETRIEVER} <= names, (
        f"expected the spans {GATEWAY_ROOT!r}, {GATEWAY_CALL!r} and {RETRIEVER!r} in the "
        f"trace; found:\n{span_tree(traces[0])}"
    )


def test_the_retriever_span_is_a_child_of_the_gateways_call_span(exercise):
    with (
        serve_app(exercise.create_retriever_app()) as retriever_url,
        serve_app(exercise.create_gateway_app(retriever_url)) as url,
    ):
        httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30)

    traces = search_traces()
    assert traces, "expected a trace for the question; found none"
    trace = traces[0]
    retriever = find_span(trace, name=RETRIEVER)
    parent = parent_of(trace, retriever)
    assert parent is not None and parent.name == GATEWAY_CALL, (
        f"expected {RETRIEVER!r} directly under the gateway's {GATEWAY_CALL!r} span (the "
        f"span whose headers were sent); found its parent "
        f"{shown(parent.name if parent else None)} in:\n{span_tree(trace)}"
    )
    grandparent = parent_of(trace, parent)
    assert root_span(trace).name == GATEWAY_ROOT and grandparent is not None, (
        f"expected {GATEWAY_ROOT!r} as the root and {GATEWAY_CALL!r} under it; found:\n"
        f"{span_tree(trace)}"
    )
    assert grandparent.name == GATEWAY_ROOT, (
        f"expected {GATEWAY_CALL!r} directly under {GATEWAY_ROOT!r}; found:\n{span_tree(trace)}"
    )


def test_each_request_is_a_trace_of_its_own_whose_id_the_gateway_returns(exercise):
    with (
        serve_app(exercise.create_retriever_app()) as retriever_url,
        serve_app(exercise.create_gateway_app(retriever_url)) as url,
    ):
        answers = [
            httpx.post(f"{url}/ask", json={"question": q}, timeout=30).json()
            for q in (QUESTION, "What is a span in an MLflow trace?")
        ]

    traces = {t.info.trace_id: t for t in search_traces()}
    returned = [a.get("trace_id") if isinstance(a, dict) else None for a in answers]
    assert len(traces) == 2 and set(returned) == set(traces), (
        f"expected two requests to make two traces, each id returned as 'trace_id'; "
        f"returned {shown(returned)}, stored {sorted(traces)}:\n{_trees(traces.values())}"
    )
    for trace_id in returned:
        names = {s.name for s in traces[trace_id].data.spans}
        assert RETRIEVER in names, (
            f"expected the retriever's span in every request's trace; trace {trace_id} has:\n"
            f"{span_tree(traces[trace_id])}"
        )


# --- the gateway alone ---------------------------------------------------------------


def test_the_gateway_sends_the_traceparent_of_its_call_span(exercise):
    _, seen = _ask_through_recording_retriever(exercise)

    assert len(seen) == 1, f"expected the gateway to call the retriever once; it called {len(seen)}"
    headers = seen[0]["headers"]
    header = headers.get("traceparent", "")
    match = TRACEPARENT.match(header)
    assert match, (
        f"expected the call to the retriever to carry a W3C 'traceparent' header "
        f"(00-<trace id>-<span id>-<flags>); it sent headers {sorted(headers)} "
        f"(traceparent={header!r})"
    )
    trace = search_traces()[0]
    call = find_span(trace, name=GATEWAY_CALL)
    assert ("tr-" + match[1], match[2]) == (trace.info.trace_id, call.span_id), (
        f"expected the traceparent to name the trace {trace.info.trace_id} and the span "
        f"{GATEWAY_CALL!r} ({call.span_id}); it names trace tr-{match[1]}, span {match[2]}. "
        "Take the headers inside the call span."
    )


def test_the_gateway_asks_for_two_sources_and_answers_from_them(exercise):
    answer, seen = _ask_through_recording_retriever(exercise)

    bodies = [request["body"] for request in seen]
    assert bodies == [{"question": QUESTION, "k": 2}], (
        f"expected one POST /search with the body {{'question': <the question>, 'k': 2}}; "
        f"the retriever got {shown(bodies)}"
    )
    expected = {
        "answer": exercise._answer_from(QUESTION, CANNED_SOURCES),
        "sources": CANNED_SOURCES,
    }
    found = {key: answer.get(key) for key in expected} if isinstance(answer, dict) else answer
    assert found == expected, (
        f"expected the answer _answer_from(question, sources) and the retriever's sources "
        f"{CANNED_SOURCES}; found {shown(found)}"
    )


def test_the_gateway_traces_a_chain_root_with_the_question_and_answer_and_a_tool_call(exercise):
    answer, _ = _ask_through_recording_retriever(exercise)

    trace = search_traces()[0]
    root, call = root_span(trace), find_span(trace, name=GATEWAY_CALL)
    found = {
        "root": (root.name, root.span_type, root.inputs, root.outputs),
        "call": (call.name, call.span_type),
    }
    expected = {
        "root": (GATEWAY_ROOT, "CHAIN", {"question": QUESTION}, {"answer": answer.get("answer")}),
        "call": (GATEWAY_CALL, "TOOL"),
    }
    assert found == expected, (
        f"expected (name, type, inputs, outputs) of the root {shown(expected['root'])} and "
        f"(name, type) of the call span {shown(expected['call'])}; found {shown(found)} in:\n"
        f"{span_tree(trace)}"
    )


# --- the retriever alone -------------------------------------------------------------


def test_the_retriever_joins_the_trace_of_any_caller(exercise):
    with (
        serve_app(exercise.create_retriever_app()) as url,
        mlflow.start_span("some_caller") as caller,
    ):
        headers = get_tracing_context_headers_for_http_request()
        response = httpx.post(
            f"{url}/search", json={"question": QUESTION, "k": 2}, headers=headers, timeout=30
        )

    assert response.status_code == 200 and len(response.json().get("sources", [])) == 2, (
        f"expected POST /search with k=2 to answer 200 with two sources; got "
        f"{response.status_code}: {response.text[:300]}"
    )
    traces = search_traces()
    assert len(traces) == 1, (
        f"expected the retriever's span inside the caller's trace (one trace); found "
        f"{len(traces)}:\n{_trees(traces)}"
    )
    retriever = find_span(traces[0], name=RETRIEVER)
    assert retriever.parent_id == caller.span_id, (
        f"expected {RETRIEVER!r} directly under the caller's span; found:\n{span_tree(traces[0])}"
    )


def test_the_retriever_span_records_the_question_k_and_the_sources(exercise):
    with serve_app(exercise.create_retriever_app()) as url:
        response = httpx.post(f"{url}/search", json={"question": QUESTION, "k": 3}, timeout=30)

    assert response.status_code == 200, (
        f"expected POST /search to answer 200; got {response.status_code}: {response.text[:300]}"
    )
    sources = response.json().get("sources")
    expected_sources = exercise._search(QUESTION, 3)
    assert sources == expected_sources, (
        f"expected the sources _search(question, 3) = {expected_sources}; found {shown(sources)}"
    )
    retriever = find_span(search_traces()[0], name=RETRIEVER)
    found = (retriever.span_type, retriever.inputs, retriever.outputs)
    expected = ("RETRIEVER", {"question": QUESTION, "k": 3}, sources)
    assert found == expected, (
        f"expected the {RETRIEVER!r} span as (type, inputs, outputs) {shown(expected)}; "
        f"found {shown(found)}"
    )


def test_the_retriever_without_a_traceparent_still_answers_in_a_trace_of_its_own(exercise):
    with serve_app(exercise.create_retriever_app()) as url:
        response = httpx.post(f"{url}/search", json={"question": QUESTION}, timeout=30)

    assert response.status_code == 200, (
        f"expected a request without tracing headers to be answered (200), not refused; got "
        f"{response.status_code}: {response.text[:300]}"
    )
    traces = search_traces()
    assert len(traces) == 1 and root_span(traces[0]).name == RETRIEVER, (
        f"expected one trace whose root is {RETRIEVER!r}; found {len(traces)}:\n{_trees(traces)}"
    )


# --- two processes -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_retriever_process(path: str, port: int) -> subprocess.Popen:
    code = (
        "import importlib.util, uvicorn\n"
        f"spec = importlib.util.spec_from_file_location('retriever_service', {path!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"uvicorn.run(module.create_retriever_app(), host='127.0.0.1', port={port}, "
        "log_level='warning')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    # The same tracking store (MLFLOW_TRACKING_URI is inherited) and the same synchronous
    # trace logging as the test (MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=false).
    return subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE)


def _wait_until_serving(service: subprocess.Popen, url: str, deadline_s: float = 90) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            httpx.get(f"{url}/docs", timeout=1)
            return
        except httpx.TransportError:
            stopped = service.poll() is not None
            assert not stopped and time.monotonic() < deadline, (
                f"the retriever service (a process of its own) did not start within "
                f"{deadline_s:.0f} s (a busy machine?): "
                + (service.stderr.read().decode()[-500:] if stopped and service.stderr else "")
            )
            time.sleep(0.1)


def test_a_retriever_in_another_process_logs_its_span_into_the_gateways_trace(exercise):
    exercise.create_retriever_app()  # the learner's code first, before the slow start
    port = _free_port()
    retriever_url = f"http://127.0.0.1:{port}"
    service = _start_retriever_process(exercise.__file__, port)
    try:
        _wait_until_serving(service, retriever_url)
        with serve_app(exercise.create_gateway_app(retriever_url)) as url:
            response = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30)
    finally:
        service.terminate()
        service.wait(30)

    assert response.status_code == 200, f"expected 200 from /ask; got {response.status_code}"
    traces = search_traces()
    assert len(traces) == 1, f"expected one trace; found {len(traces)}:\n{_trees(traces)}"
    retriever = find_span(traces[0], name=RETRIEVER)
    parent = parent_of(traces[0], retriever)
    assert parent is not None and parent.name == GATEWAY_CALL, (
        f"expected the other process's {RETRIEVER!r} under {GATEWAY_CALL!r}; found:\n"
        f"{span_tree(traces[0])}"
    )
