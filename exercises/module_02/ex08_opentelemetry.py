"""Exercise 8: OpenTelemetry underneath, plain OTel spans as MLflow traces.

MLflow tracing is built on OpenTelemetry (OTel): an MLflow span wraps an OTel
span, and an MLflow tracking server accepts spans from *any* OTel SDK (Python,
Java, Go, JavaScript) over the standard OTLP protocol. So code you cannot, or
do not want to, instrument with MLflow still shows up as MLflow traces.

Prove it: instrument a chat call with the plain OpenTelemetry SDK, no MLflow
API at all, and export it to a real ``mlflow server``.

1. ``make_tracer_provider``: a ``TracerProvider`` (with a ``Resource`` naming
   the service) whose span processor sends spans with an
   ``OTLPSpanExporter`` (http/protobuf) to ``<tracking_uri>/v1/traces``, with
   the header ``x-mlflow-experiment-id: <experiment id>``.
2. ``answer``: a ``handle_question`` span around a ``chat <model>`` span that
   calls the model with ``openai.OpenAI()`` and records the OpenTelemetry
   GenAI semantic conventions (``gen_ai.*`` attributes). MLflow maps them:
   ``gen_ai.operation.name = "chat"`` makes a CHAT_MODEL span, the model
   attributes give the model, ``gen_ai.usage.*`` the token usage,
   ``gen_ai.input.messages`` / ``gen_ai.output.messages`` the inputs and outputs.

APIs practised: ``opentelemetry.sdk.trace.TracerProvider``,
``BatchSpanProcessor``, ``opentelemetry.exporter.otlp.proto.http.trace_exporter.OTLPSpanExporter``,
``provider.get_tracer(...).start_as_current_span(...)``, ``span.set_attribute``;
MLflow's OTLP endpoint and its GenAI attribute mapping.

Done looks like this: start a server (``uv run mlflow server --port 5000``),
create an experiment, call ``answer`` with a provider for it, flush, and the
UI shows a trace with a CHAT_MODEL span, its messages, model and token count.

Run the checks: ``uv run pytest exercises/module_02/test_ex08_opentelemetry.py``
(the tests start a real MLflow server on 127.0.0.1 once; it takes a few seconds)
"""

from __future__ import annotations

import json  # noqa: F401 - gen_ai.*.messages are JSON strings

import openai  # noqa: F401 - you will need these
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: F401
from opentelemetry.sdk.resources import Resource  # noqa: F401
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: F401

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
    # TODO: make an OTLPSpanExporter (endpoint and header), a TracerProvider with a Resource
    #       {"service.name": SERVICE_NAME}, add a span processor with the exporter, return it.
    raise NotImplementedError("make_tracer_provider: not written yet (see the TODO above)")


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
    # TODO: get a tracer from the provider; open the request span, and inside it the chat
    #       span; call the model and set the gen_ai.* attributes from the request and the
    #       response (response.model, response.usage.prompt_tokens / completion_tokens).
    raise NotImplementedError("answer: not written yet (see the TODO above)")
