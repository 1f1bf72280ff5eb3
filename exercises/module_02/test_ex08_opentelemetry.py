"""Checks for ex08_opentelemetry: plain OpenTelemetry spans exported to a real MLflow server."""

import uuid

import pytest
from mlflow import MlflowClient

from fixtures.llm_server import count_tokens
from fixtures.messages import shown
from fixtures.traces import find_span, root_span, search_traces, span_tree

# One MLflow server per test process: keep these tests on one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("mlflow_server")

QUESTION = "What is the capital of France?"
REPLY = "Paris is the capital of France."


def test_the_provider_is_not_made_the_global_one(exercise, monkeypatch):
    from opentelemetry import trace as otel_trace
    from opentelemetry.util._once import Once

    # A fresh global slot for this test, so that a provider set here is seen (and undone).
    monkeypatch.setattr(otel_trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(otel_trace, "_TRACER_PROVIDER_SET_ONCE", Once())

    provider = exercise.make_tracer_provider("http://127.0.0.1:9", "0")
    try:
        made_global = otel_trace.get_tracer_provider() is provider
    finally:
        provider.shutdown()
    assert not made_global, (
        "expected make_tracer_provider to return its provider without making it "
        "OpenTelemetry's global one (trace.set_tracer_provider): other code in the process, "
        "MLflow's own tracing among it, would start sending its spans through it"
    )


@pytest.fixture
def provider_is_written(exercise):
    """Fail fast on the untouched stub, before a server is started for nothing (making a
    provider sends nothing until a span ends)."""
    exercise.make_tracer_provider("http://127.0.0.1:9", "0").shutdown()


@pytest.fixture
def exported(exercise, provider_is_written, request, fake_llm_env):
    """Answer QUESTION with the learner's provider pointed at a real MLflow server, in an
    experiment of this test's own; return (reply, traces of that experiment)."""
    mlflow_server = request.getfixturevalue("mlflow_server")
    client = MlflowClient(tracking_uri=mlflow_server.url)
    experiment_id = client.create_experiment(f"kata-otel-{uuid.uuid4().hex[:8]}")
    fake_llm_env.script(REPLY)

    provider = exercise.make_tracer_provider(mlflow_server.url, experiment_id)
    try:
        reply = exercise.answer(provider, QUESTION)
    finally:
        provider.force_flush()
        provider.shutdown()
    traces = client.search_traces(locations=[experiment_id])
    return reply, [client.get_trace(t.info.trace_id) for t in traces]


def _only(traces):
    assert len(traces) == 1, (
        f"expected the question's spans to reach the MLflow server as exactly one trace in the "
        f"experiment; found {len(traces)}. Export over OTLP/HTTP to <tracking_uri>/v1/traces "
        "with the header x-mlflow-experiment-id, and open the chat span inside the request span."
        + "".join(f"\n{span_tree(t)}" for t in traces)
    )
    return traces[0]


def test_answer_returns_the_reply_of_the_chat_model(exercise, exported, fake_llm_env):
    reply, _ = exported

    assert reply == REPLY, f"expected answer(...) to return the model's reply; got {shown(reply)}"
    sent = [(r.path, r.body.get("model")) for r in fake_llm_env.chat_requests]
    assert sent == [("/v1/chat/completions", "gpt-4o-mini")], (
        "expected one OpenAI chat completion for gpt-4o-mini, sent to OPENAI_BASE_URL; the "
        f"server received {sent or 'nothing'}"
    )


def test_the_spans_become_one_trace_with_the_chat_span_under_the_request_span(exported):
    _, traces = exported

    trace = _only(traces)
    root = root_span(trace)
    chat = find_span(trace, span_type="CHAT_MODEL")
    assert getattr(root, "name", None) == "handle_question" and chat.parent_id == root.span_id, (
        f"expected the chat span directly under the request span 'handle_question'; found "
        f"spans:\n{span_tree(trace)}"
    )


def test_gen_ai_attributes_make_a_chat_model_span_with_model_and_messages(exported):
    _, traces = exported

    chat = find_span(_only(traces), span_type="CHAT_MODEL")
    model = chat.get_attribute("mlflow.llm.model")
    assert model == "gpt-4o-mini", (
        f"expected MLflow to read the model 'gpt-4o-mini' from gen_ai.request.model / "
        f"gen_ai.response.model; found {model!r}"
    )
    assert QUESTION in str(chat.inputs) and REPLY in str(chat.outputs), (
        "expected the chat span's inputs and outputs to hold the messages (from "
        f"gen_ai.input.messages and gen_ai.output.messages); found inputs {shown(chat.inputs)}, "
        f"outputs {shown(chat.outputs)}"
    )


def test_the_chat_span_is_named_after_the_model_and_names_its_provider(exported):
    _, traces = exported

    chat = find_span(_only(traces), span_type="CHAT_MODEL")
    found = (chat.name, chat.get_attribute("mlflow.llm.provider"))
    assert found == ("chat gpt-4o-mini", "openai"), (
        "expected the chat span to be named 'chat <model>', 'chat gpt-4o-mini', and MLflow to "
        "read the provider 'openai' from gen_ai.provider.name; found the name and provider "
        f"{shown(found)}"
    )


def test_the_request_span_records_the_question(exported):
    _, traces = exported

    root = root_span(_only(traces))
    question = root.attributes.get("question") if root is not None else None
    assert question == QUESTION, (
        f"expected the request span 'handle_question' to carry the attribute question = "
        f"{QUESTION!r}; found {shown(question)}"
    )


def test_gen_ai_usage_attributes_become_the_trace_token_usage(exported):
    _, traces = exported

    usage = _only(traces).info.token_usage
    expected = {
        "input_tokens": count_tokens(QUESTION),
        "output_tokens": count_tokens(REPLY),
        "total_tokens": count_tokens(QUESTION) + count_tokens(REPLY),
    }
    assert usage == expected, (
        f"expected the trace's token usage to be what the model reported, {expected} (from "
        f"gen_ai.usage.input_tokens and gen_ai.usage.output_tokens); found {usage}"
    )


def test_the_trace_names_the_service(exported):
    _, traces = exported

    service = _only(traces).info.tags.get("service.name")
    assert service == "kata-otel-app", (
        f"expected the trace to carry the resource's service.name 'kata-otel-app'; found "
        f"{service!r}. Give the TracerProvider a Resource."
    )


def test_no_mlflow_tracing_api_is_used(exported):
    local = search_traces()

    assert local == [], (
        f"expected the spans to come from the OpenTelemetry SDK only, exported to the server; "
        f"found {len(local)} trace(s) written by MLflow's own tracing to the local store"
    )
