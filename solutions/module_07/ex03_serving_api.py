"""Reference solution for module_07/ex03_serving_api: the champion behind a guarded, traced API."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import mlflow
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from mlflow.entities import SpanType
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
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one request of ``key`` if it is allowed now and return 0.0; otherwise
        count nothing and return how many seconds until it would be allowed.

        Read the clock with ``time.time()`` or ``time.monotonic()`` (tests freeze them).
        """
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window_seconds:
                hits.popleft()  # older than the window: forgotten
            if len(hits) < self.limit:
                hits.append(now)
                return 0.0
            return hits[0] + self.window_seconds - now


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
    keys = set(api_keys)
    limiter = RateLimiter(rate_limit, window_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.agent = mlflow.pyfunc.load_model(model_uri)
        yield
        mlflow.flush_trace_async_logging()  # no trace left in the queue when we stop

    app = FastAPI(title="support agent", lifespan=lifespan)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        # Runs before routing: every route except OPEN_PATHS is guarded, even unknown ones.
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        request.state.request_id = request_id
        if request.url.path not in OPEN_PATHS:
            key = request.headers.get(API_KEY_HEADER)
            if not key:
                return _error(401, f"missing {API_KEY_HEADER} header", request_id)
            if key not in keys:
                return _error(403, "invalid API key", request_id)
            length = request.headers.get("content-length")
            size = int(length) if length else len(await request.body())
            if size > max_body_bytes:
                return _error(413, f"body larger than {max_body_bytes} bytes", request_id)
            wait = limiter.hit(key)
            if wait > 0:
                retry_after = str(max(1, math.ceil(wait)))
                return _error(
                    429, "rate limit exceeded", request_id, **{"Retry-After": retry_after}
                )
        response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: Question, request: Request):
        # A sync route runs in a worker thread: a slow agent does not block other requests.
        request_id = request.state.request_id
        trace_id = None
        try:
            with mlflow.start_span(name="predict", span_type=SpanType.CHAIN) as span:
                trace_id = span.trace_id
                mlflow.update_current_trace(client_request_id=request_id)
                span.set_inputs({"question": body.question})  # the question, never the headers
                answer = _answer_text(request.app.state.agent.predict(_request_for(body.question)))
                span.set_outputs({"answer": answer})
        except Exception as err:  # the span above has already recorded it as an ERROR
            message = f"the agent failed ({type(err).__name__})"
            return _error(500, message, request_id, **{"X-Trace-ID": trace_id or ""})
        return {"answer": answer, "request_id": request_id, "trace_id": trace_id}

    @app.post("/stream")
    async def stream(body: Question, request: Request):
        request_id = request.state.request_id
        agent = request.app.state.agent

        # An async generator runs every step on the event loop, in one context, so the span
        # opens and closes in the same place (a sync one is stepped in worker threads).
        async def events():
            try:
                with mlflow.start_span(name="stream", span_type=SpanType.CHAIN) as span:
                    mlflow.update_current_trace(client_request_id=request_id)
                    span.set_inputs({"question": body.question})
                    parts = []
                    for event in agent.predict_stream(_request_for(body.question)):
                        if event.get("type") == "response.output_text.delta":
                            parts.append(event["delta"])
                            yield f"data: {json.dumps({'delta': event['delta']})}\n\n"
                    span.set_outputs({"answer": "".join(parts)})
            except Exception as err:
                yield f"data: {json.dumps({'error': type(err).__name__})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app
