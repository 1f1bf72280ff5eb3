"""Exercise 3: serve the champion behind an authenticated, rate-limited, traced API.

The registry says which version is the ``champion``; now it has to answer real
requests. Wrap ``models:/support-agent@champion`` in a FastAPI service with what a
production endpoint needs:

- an API key on every route but ``/health`` (401 without one, 403 with a wrong one);
- a per-key rate limit (429 with a ``Retry-After`` header), so that one client can
  neither starve the others nor run up the LLM bill;
- a limit on the body size (413): a prompt of a megabyte is an attack or a bug;
- one MLflow trace per request, carrying the client's request id (``X-Request-ID``),
  so that a support ticket quoting the id leads straight to the trace;
- errors as JSON, and a failing agent as an ERROR trace, never a stack trace for the
  user;
- streaming: the answer as server-sent events, as the agent produces it.

Build ``RateLimiter.hit`` and ``create_app``; their docstrings give the routes,
headers, status codes and bodies the tests expect.

MLflow APIs practised: ``mlflow.pyfunc.load_model("models:/name@alias")``, a loaded
``ResponsesAgent``'s ``predict`` and ``predict_stream``, ``mlflow.start_span``,
``mlflow.update_current_trace(client_request_id=...)``,
``mlflow.flush_trace_async_logging``. FastAPI pieces: a lifespan handler, an
``@app.middleware("http")`` guard, ``JSONResponse``, ``StreamingResponse``.

Done looks like this: the tests pass, including the one that runs a real uvicorn
server on 127.0.0.1 and sends it a burst of concurrent requests; in the UI, the
search ``trace.client_request_id = 'req-0042'`` finds the trace of that request.

Run the checks: ``uv run pytest exercises/module_07/test_ex03_serving_api.py``
"""

from __future__ import annotations

import json  # noqa: F401 - you will need these
import math  # noqa: F401
import threading  # noqa: F401
import time  # noqa: F401
import uuid  # noqa: F401
from collections import defaultdict, deque  # noqa: F401
from collections.abc import AsyncIterator, Collection  # noqa: F401
from contextlib import asynccontextmanager  # noqa: F401

import mlflow  # noqa: F401
from fastapi import FastAPI, Request  # noqa: F401
from fastapi.responses import JSONResponse, StreamingResponse  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401
from pydantic import BaseModel

MODEL_URI = "models:/support-agent@champion"
API_KEY_HEADER = "X-API-Key"
REQUEST_ID_HEADER = "X-Request-ID"
OPEN_PATHS = ("/health",)  # the only routes that need no API key


class Question(BaseModel):
    """The body of ``POST /predict`` and ``POST /stream``."""

    question: str


class RateLimiter:
    """At most ``limit`` requests per key in any ``window_seconds``: a sliding window."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        # TODO: remember the times of each key's recent requests (a dict of deques, say),
        #       and make a threading.Lock: requests arrive on several threads at once.

    def hit(self, key: str) -> float:
        """Count one request of ``key`` if it is allowed now and return 0.0; otherwise
        count nothing and return how many seconds until it would be allowed.

        Read the clock with ``time.time()`` or ``time.monotonic()`` (tests freeze them).
        """
        # TODO: under the lock, forget the key's requests older than the window; if fewer
        #       than limit are left, record this one and return 0.0; else return the time
        #       until the oldest one leaves the window.
        raise NotImplementedError("RateLimiter.hit: not written yet (see the TODO above)")


def _request_for(question: str) -> dict:
    return {"input": [{"role": "user", "content": question}]}


def _answer_text(response: dict) -> str:
    return "".join(
        part.get("text", "")
        for item in response.get("output", [])
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


def _error(status: int, message: str, request_id: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": message, "request_id": request_id},
        status_code=status,
        headers={REQUEST_ID_HEADER: request_id, **headers},
    )


def create_app(
    api_keys: Collection[str],
    model_uri: str = MODEL_URI,
    rate_limit: int = 60,
    window_seconds: float = 60.0,
    max_body_bytes: int = 16_384,
) -> FastAPI:
    """A FastAPI app that serves the agent at ``model_uri``.

    Routes:
    - ``GET /health``: ``{"status": "ok"}``, the only route that needs no key.
    - ``POST /predict`` with ``{"question": ...}``: ``{"answer", "request_id", "trace_id"}``.
    - ``POST /stream`` with ``{"question": ...}``: the answer as server-sent events, one
      ``data: {"delta": "..."}`` per text delta of ``predict_stream``, then ``data: [DONE]``.

    Every other request needs the header ``X-API-Key`` with one of ``api_keys``: 401
    without it, 403 with a wrong one. A body longer than ``max_body_bytes`` is a 413.
    Each key may make ``rate_limit`` requests per ``window_seconds``; beyond that, a 429
    with a ``Retry-After`` header (whole seconds). Every error is a JSON object with an
    ``"error"`` message.

    Each answered request is one trace: a span around the work, the agent's own spans
    under it, and the trace's ``client_request_id`` set to the ``X-Request-ID`` header
    (a new id when the client sent none, echoed in the response header). The API key is
    never recorded in a trace. When the agent fails, ``/predict`` answers 500 with a JSON
    error and the trace ends in ERROR.

    Load the model once, when the app starts (a lifespan handler); flush the async
    trace queue when it stops.
    """
    # TODO: 1. a lifespan that loads the model into app.state and flushes traces at the end;
    #       2. a middleware: request id, then (outside OPEN_PATHS) key check, body size and
    #          rate limit, answering with _error(...); add the request id to the response;
    #       3. the routes: /health, /predict (a sync def, one span, client_request_id,
    #          a 500 on failure) and /stream (StreamingResponse over an *async* generator
    #          that opens the span and yields the deltas as "data: ...\n\n" lines).
    raise NotImplementedError("create_app: not written yet (see the TODO above)")
