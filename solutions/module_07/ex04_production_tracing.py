"""Reference solution for module_07/ex04_production_tracing: fast, sampled, redacted traces."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import mlflow
from fastapi import FastAPI
from mlflow.entities import LiveSpan, SpanType
from pydantic import BaseModel

REDACTED = "[REDACTED]"
# An API key: "sk-" and at least 8 more letters, digits, "-" or "_" (OpenAI-style keys).
API_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_-]{8,}")
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def redact(value: Any) -> Any:
    """``value`` with every API key and e-mail address in its strings replaced by
    ``REDACTED``: strings are rewritten, dicts and lists (and tuples) are rebuilt with
    their items redacted, anything else (numbers, booleans, None) is returned as it is."""
    if isinstance(value, str):
        return EMAIL_PATTERN.sub(REDACTED, API_KEY_PATTERN.sub(REDACTED, value))
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_secrets(span: LiveSpan) -> None:
    """A span processor: replace the span's inputs and outputs by their ``redact``-ed
    copies (when the span has them). MLflow runs it on every span before export."""
    if span.inputs is not None:
        span.set_inputs(redact(span.inputs))
    if span.outputs is not None:
        span.set_outputs(redact(span.outputs))


def configure_production_tracing(sampling_ratio: float = 1.0) -> None:
    """Set this process up for production tracing.

    - async trace logging on (``MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=true``): requests do
      not wait for the trace to be written;
    - keep ``sampling_ratio`` of the traces (``MLFLOW_TRACE_SAMPLING_RATIO``);
    - ``redact_secrets`` as a span processor.

    The tracer reads both variables when it starts, and it may have started already:
    restart it (``mlflow.tracing.reset()``) before registering the span processor.
    """
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "true"
    os.environ["MLFLOW_TRACE_SAMPLING_RATIO"] = str(sampling_ratio)
    mlflow.tracing.reset()  # also forgets span processors: configure them afterwards
    mlflow.tracing.configure(span_processors=[redact_secrets])


class ChatRequest(BaseModel):
    """The body of ``POST /chat``."""

    message: str


def create_app(agent: Callable[[str], str], sampling_ratio: float = 1.0) -> FastAPI:
    """A FastAPI app that answers ``POST /chat`` ``{"message": ...}`` with
    ``{"reply": agent(message)}``, traced for production.

    When it starts (lifespan), call ``configure_production_tracing(sampling_ratio)``.
    Each request is one trace: a span (of your naming) around the call to ``agent``,
    with the message as its input and the reply as its output. When the app stops,
    flush the async trace queue (``mlflow.flush_trace_async_logging()``), so that no
    trace is lost when the server shuts down.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_production_tracing(sampling_ratio)
        try:
            yield
        finally:
            # The queue's threads are daemons: a worker process that exits without
            # running atexit handlers (os._exit) would drop every trace still queued.
            mlflow.flush_trace_async_logging()

    app = FastAPI(title="support chat", lifespan=lifespan)

    @app.post("/chat")
    def chat(body: ChatRequest) -> dict:
        with mlflow.start_span(name="chat", span_type=SpanType.CHAIN) as span:
            span.set_inputs({"message": body.message})
            reply = agent(body.message)
            span.set_outputs({"reply": reply})
        return {"reply": reply}

    return app
