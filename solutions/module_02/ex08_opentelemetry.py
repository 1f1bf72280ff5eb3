"""Reference solution for module_02/ex08_opentelemetry: plain OTel spans become MLflow traces."""

from __future__ import annotations

import json

import openai
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

SERVICE_NAME = "kata-otel-app"
MODEL = "gpt-4o-mini"
REQUEST_SPAN = "handle_question"
EXPERIMENT_HEADER = "x-mlflow-experiment-id"


def make_tracer_provider(tracking_uri: str, experiment_id: str) -> TracerProvider:
    """An OpenTelemetry ``TracerProvider`` that exports spans to an MLflow tracking server.

    MLflow servers accept OTLP over HTTP (protobuf) at ``<tracking_uri>/v1/traces``;
    the header ``EXPERIMENT_HEADER`` says which experiment the traces go to. The
    provider's resource names the service ``SERVICE_NAME``. Use only the
    OpenTelemetry SDK (no MLflow API), and do not make it the global provider.
    """
    exporter = OTLPSpanExporter(
        endpoint=f"{tracking_uri.rstrip('/')}/v1/traces",
        headers={EXPERIMENT_HEADER: experiment_id},
    )
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    # Batching sends spans in the background; provider.force_flush() or shutdown() sends
    # what is left.
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def answer(provider: TracerProvider, question: str, model: str = MODEL) -> str:
    """Answer a question with an OpenAI-compatible chat model, traced with OpenTelemetry only.

    Two spans from ``provider.get_tracer(...)``:

        handle_question                 attribute question
          - "chat <model>"              the GenAI semantic conventions:
                gen_ai.operation.name   "chat"
                gen_ai.provider.name    "openai"
                gen_ai.request.model    model
                gen_ai.response.model   the model the response names
                gen_ai.usage.input_tokens / gen_ai.usage.output_tokens
                                        the usage the response reports
                gen_ai.input.messages / gen_ai.output.messages
                                        the messages, as JSON strings

    The client is ``openai.OpenAI()`` (it reads ``OPENAI_API_KEY`` and
    ``OPENAI_BASE_URL``). Returns the reply's text.
    """
    tracer = provider.get_tracer("kata.otel.example")
    messages = [{"role": "user", "content": question}]
    with tracer.start_as_current_span(REQUEST_SPAN) as request_span:
        request_span.set_attribute("question", question)
        # MLflow maps these gen_ai.* attributes to the span type (CHAT_MODEL), the
        # model, the token usage and the span's inputs and outputs.
        with tracer.start_as_current_span(f"chat {model}") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", "openai")
            span.set_attribute("gen_ai.request.model", model)
            span.set_attribute("gen_ai.input.messages", json.dumps(messages))
            response = openai.OpenAI().chat.completions.create(model=model, messages=messages)
            text = response.choices[0].message.content or ""
            span.set_attribute("gen_ai.response.model", response.model)
            span.set_attribute("gen_ai.usage.input_tokens", response.usage.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", response.usage.completion_tokens)
            span.set_attribute(
                "gen_ai.output.messages", json.dumps([{"role": "assistant", "content": text}])
            )
    return text
