"""Checks for ex04_production_tracing: async, sampled, redacted traces that survive shutdown."""

import os
import subprocess
import sys
import textwrap
import uuid

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow.environment_variables import MLFLOW_ENABLE_ASYNC_TRACE_LOGGING

from fixtures.messages import shown
from fixtures.production import trace_text
from fixtures.traces import find_spans, root_span, search_traces, span_tree

API_KEY = "sk-proj-9f8e7d6c5b4a3210"
EMAIL = "jane.doe@example.com"
SECRETS = [API_KEY, EMAIL]
MESSAGE = f"My key is {API_KEY} and my e-mail is {EMAIL}, please help"
CLEAN = "My key is [REDACTED] and my e-mail is [REDACTED], please help"


# configure_production_tracing changes MLflow's tracing settings: the kit puts them back.
pytestmark = pytest.mark.usefixtures("tracing_settings")


@mlflow.trace(span_type="AGENT")
def echo_agent(message: str) -> str:
    """The agent the tests serve: it repeats the message, secrets included."""
    return f"You said: {message}"


@mlflow.trace
def _lookup(payload: dict) -> dict:
    return {"found": f"customer {EMAIL}", "echo": payload}


@mlflow.trace
def _support(message: str, history: list) -> str:
    _lookup({"query": message, "history": history})
    return f"Answered {message}"


def stored_traces():
    """Every trace in the store, after draining and stopping the async queue for good
    (a flush that restarts the queue costs up to a second each time)."""
    mlflow.flush_trace_async_logging(terminate=True)
    return search_traces()


def leaks(traces) -> list[str]:
    return [f"{secret} in trace {t.info.trace_id}" for t in traces for secret in SECRETS
            if secret in trace_text(t)]  # fmt: skip


def as_lists(value):
    """``value`` with its tuples as lists: redact may rebuild a tuple as either."""
    if isinstance(value, dict):
        return {key: as_lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_lists(item) for item in value]
    return value


def test_redact_replaces_api_keys_and_email_addresses_in_nested_values(exercise):
    value = {
        "message": MESSAGE,
        "history": [{"role": "user", "content": f"write to {EMAIL} or ann.lee+kata@mail.co.uk"}],
        "tokens": 12,
        "urgent": True,
        "note": None,
        "pair": (API_KEY, 3),
    }

    cleaned = as_lists(exercise.redact(value))

    expected = {
        "message": CLEAN,
        "history": [{"role": "user", "content": "write to [REDACTED] or [REDACTED]"}],
        "tokens": 12,
        "urgent": True,
        "note": None,
        "pair": ["[REDACTED]", 3],
    }
    assert cleaned == expected, (
        f"expected every API key and e-mail address in the strings replaced by '[REDACTED]', "
        f"and everything else kept as it was (a tuple may come back as a list):\n"
        f"  expected {expected}\n  got      {shown(cleaned, 1000)}"
    )


def test_redact_secrets_cleans_every_span_before_it_is_stored(exercise):
    history = [{"role": "user", "content": f"I am {EMAIL}"}]
    errors = []

    def processor(span):
        # MLflow only logs a warning when a span processor raises; the test re-raises it.
        try:
            exercise.redact_secrets(span)
        except Exception as err:
            errors.append(err)
            raise

    with mlflow.tracing.configure(span_processors=[processor]):
        _support(MESSAGE, history)
    if errors:
        raise errors[0]

    traces = search_traces()
    assert len(traces) == 1, f"expected one trace; found {len(traces)}"
    assert not leaks(traces), (
        f"expected no API key or e-mail address anywhere in the stored trace (inputs and "
        f"outputs of every span, previews); found {leaks(traces)}"
    )
    root = root_span(traces[0])
    assert root.inputs.get("message") == CLEAN, (
        f"expected the root span's input message to keep its other words: {CLEAN!r}; got "
        f"{root.inputs!r}"
    )


def test_configure_production_tracing_turns_on_async_logging(exercise):
    exercise.configure_production_tracing()

    assert MLFLOW_ENABLE_ASYNC_TRACE_LOGGING.get() is True, (
        "expected MLFLOW_ENABLE_ASYNC_TRACE_LOGGING to be true after "
        "configure_production_tracing(); it is "
        f"{os.environ.get('MLFLOW_ENABLE_ASYNC_TRACE_LOGGING')!r}"
    )
    for number in range(5):
        echo_agent(f"hello {number}")
    found = len(stored_traces())
    assert found == 5, (
        f"expected the 5 traces in the store once the queue is flushed; found {found}"
    )


def test_configure_production_tracing_registers_the_redactor(exercise):
    exercise.configure_production_tracing()

    echo_agent(MESSAGE)

    traces = stored_traces()
    assert len(traces) == 1 and not leaks(traces), (
        f"expected one trace with no secret in it after configure_production_tracing(); found "
        f"{len(traces)} traces, leaks: {leaks(traces)}"
    )


def test_a_sampling_ratio_of_zero_records_nothing_even_after_tracing_started(exercise):
    echo_agent("before production")  # the tracer is already running
    exercise.configure_production_tracing(sampling_ratio=0.0)

    for number in range(10):
        echo_agent(f"sampled out {number}")

    traces = stored_traces()
    assert len(traces) == 1, (
        f"expected sampling_ratio=0.0 to keep no trace of the 10 calls (only the one made "
        f"before remains); found {len(traces)} traces. The tracer reads "
        "MLFLOW_TRACE_SAMPLING_RATIO when it starts: restart it with mlflow.tracing.reset()."
    )


def test_a_sampling_ratio_keeps_about_that_share_of_traces(exercise):
    exercise.configure_production_tracing(sampling_ratio=0.25)

    for number in range(80):
        echo_agent(f"call {number}")

    kept = len(stored_traces())
    assert 5 <= kept <= 40, (
        f"expected about a quarter of 80 calls (20, and surely between 5 and 40) to be "
        f"traced with sampling_ratio=0.25; {kept} were"
    )


def test_each_chat_request_is_one_trace_of_the_message_and_reply_without_secrets(exercise):
    with TestClient(exercise.create_app(echo_agent)) as client:
        replies = [client.post("/chat", json={"message": m}) for m in ["hi", MESSAGE]]

    assert [r.status_code for r in replies] == [200, 200], (
        f"expected POST /chat to answer 200; got {[(r.status_code, r.text) for r in replies]}"
    )
    assert replies[0].json() == {"reply": "You said: hi"}, (
        f"expected {{'reply': agent(message)}}; got {replies[0].json()}"
    )
    traces = stored_traces()
    assert len(traces) == 2 and not leaks(traces), (
        f"expected 2 traces, one per request, with no secret in them; found {len(traces)}, "
        f"leaks: {leaks(traces)}"
    )
    inputs = sorted(str(root_span(t).inputs) for t in traces)
    assert any("hi" in text for text in inputs) and any(CLEAN in text for text in inputs), (
        f"expected each trace's root span to record the (redacted) message as its input; "
        f"found inputs {inputs}"
    )
    outputs = [str(root_span(t).outputs) for t in traces]
    assert any("You said: hi" in text for text in outputs), (
        f"expected the root span of the 'hi' request to record the reply 'You said: hi' as its "
        f"output; found outputs {outputs}"
    )


def test_the_request_span_wraps_the_agents_own_span(exercise):
    with TestClient(exercise.create_app(echo_agent)) as client:
        client.post("/chat", json={"message": "hi"})

    traces = stored_traces()
    assert len(traces) == 1, f"expected one trace for one request; found {len(traces)}"
    root = root_span(traces[0])
    agents = find_spans(traces[0], name="echo_agent")
    assert root is not None and agents and agents[0].parent_id == root.span_id, (
        f"expected the agent's own span (echo_agent) under a span of the app's around the "
        f"call; found spans:\n{span_tree(traces[0])}"
    )


def test_the_app_samples_at_the_ratio_it_was_given(exercise):
    with TestClient(exercise.create_app(echo_agent, sampling_ratio=0.0)) as client:
        replies = [client.post("/chat", json={"message": f"hi {n}"}) for n in range(5)]

    assert [r.status_code for r in replies] == [200] * 5, (
        f"expected POST /chat to answer 200; got {[r.status_code for r in replies]}"
    )
    kept = len(stored_traces())
    assert kept == 0, (
        f"expected create_app(agent, sampling_ratio=0.0) to keep no trace of 5 requests; "
        f"{kept} were kept. Pass the ratio on to configure_production_tracing."
    )


_SHUTDOWN_SCRIPT = textwrap.dedent(
    """
    import importlib.util, os, sys
    import mlflow

    spec = importlib.util.spec_from_file_location("kata_ex04_in_a_worker", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    @mlflow.trace(span_type="AGENT")
    def agent(message):
        return "Noted: " + message

    from fastapi.testclient import TestClient

    with TestClient(module.create_app(agent)) as client:  # startup ... shutdown
        for number in range(int(sys.argv[2])):
            response = client.post("/chat", json={"message": f"request {number}"})
            assert response.status_code == 200, response.text
    os._exit(0)  # as a server's worker process ends: no atexit handler runs
    """
)


def test_no_trace_is_lost_when_the_service_shuts_down(exercise, mlflow_store):
    exercise.create_app(echo_agent)  # builds (the run below needs a working create_app)
    requests = 8

    done = subprocess.run(
        [sys.executable, "-c", _SHUTDOWN_SCRIPT, str(exercise.__file__), str(requests)],
        cwd=mlflow_store.folder,
        # One export worker, as on a small server: the queue drains one trace at a time.
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": mlflow_store.uri,
            "MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS": "1",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )

    if "NotImplementedError" in done.stderr:
        raise NotImplementedError(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, f"the service process failed:\n{done.stderr[-3000:]}"
    stored = mlflow.search_traces(return_type="list", locations=["0"])
    assert len(stored) == requests, (
        f"expected all {requests} traces in the store after the service shut down (its "
        f"process then ended without atexit handlers, like a server's worker); found "
        f"{len(stored)}. With async logging, flush the trace queue when the app stops "
        "(in the lifespan handler)."
    )


def test_traces_reach_a_real_mlflow_server_over_http_without_secrets(
    exercise, mlflow_server, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)  # configuration, not code
    experiment_id = mlflow.set_experiment(f"ex04-production-{uuid.uuid4().hex[:8]}").experiment_id

    with TestClient(exercise.create_app(echo_agent)) as client:
        for _ in range(3):
            client.post("/chat", json={"message": MESSAGE})

    remote = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    traces = remote.search_traces(locations=[experiment_id])
    assert len(traces) == 3, (
        f"expected the 3 traces on the MLflow server at {mlflow_server.url} (experiment "
        f"{experiment_id}); found {len(traces)}"
    )
    assert not leaks(traces), f"expected no secret on the server; found {leaks(traces)}"
