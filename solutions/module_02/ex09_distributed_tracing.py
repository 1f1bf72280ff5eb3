"""Reference solution for module_02/ex09_distributed_tracing: one trace across two services.

Two FastAPI services: a *gateway* that answers questions and a *retriever* that finds
the documents, called by the gateway over HTTP. Each service traces its own work; the
W3C ``traceparent`` header carries the trace from one to the other, so a question is
ONE trace whose span tree crosses both services:

    gateway.ask (CHAIN)                      <- gateway
      gateway.call_retriever (TOOL)          <- gateway: the HTTP call
        retriever.search (RETRIEVER)         <- retriever, in the same trace
"""

from __future__ import annotations

import re

import httpx
import mlflow
from fastapi import FastAPI, Request
from mlflow.entities import SpanType
from mlflow.tracing import (
    get_tracing_context_headers_for_http_request,
    set_tracing_context_from_http_request_headers,
)
from pydantic import BaseModel

from fixtures.data import load_corpus

TRACEPARENT = "traceparent"
_STOPWORDS = frozenset(
    "a an the is are of to in and or what how do does i it for with on be can which when".split()  # noqa: SIM905
)


class SearchRequest(BaseModel):
    """The body of the retriever's ``POST /search``."""

    question: str
    k: int = 2


class AskRequest(BaseModel):
    """The body of the gateway's ``POST /ask``."""

    question: str


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_]+", text.lower()) if w not in _STOPWORDS}


def _search(question: str, k: int) -> list[str]:
    """The names of the ``k`` corpus documents sharing most words with the question,
    best first (ties by name)."""
    wanted = _words(question)
    scored = [(-len(wanted & _words(text)), name) for name, text in load_corpus().items()]
    return [name for _, name in sorted(scored)[:k]]


def _answer_from(question: str, sources: list[str]) -> str:
    """The sentence of the first source that shares most words with the question."""
    if not sources:
        return "I could not find the answer."
    text = " ".join(load_corpus().get(sources[0], "").split())
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return max(sentences, key=lambda s: len(_words(question) & _words(s)))


def create_retriever_app() -> FastAPI:
    """The retriever service.

    ``POST /search`` with ``{"question": str, "k": int (default 2)}`` answers
    ``{"sources": [document names, best first]}`` (use ``_search``).

    Each request is traced as one span named ``retriever.search`` of type RETRIEVER, with
    inputs ``{"question": ..., "k": ...}`` and the list of sources as outputs. When the
    request carries a ``traceparent`` header, that span joins the caller's trace as a
    child of the caller's span (``set_tracing_context_from_http_request_headers``);
    without one, the request still answers and its span starts a trace of its own.
    """
    app = FastAPI(title="retriever")

    def search(body: SearchRequest) -> list[str]:
        with mlflow.start_span("retriever.search", span_type=SpanType.RETRIEVER) as span:
            span.set_inputs({"question": body.question, "k": body.k})
            sources = _search(body.question, body.k)
            span.set_outputs(sources)
        return sources

    @app.post("/search")
    def search_route(body: SearchRequest, request: Request) -> dict:
        headers = dict(request.headers)  # Starlette gives lower-case names
        if TRACEPARENT in headers:
            # The span started inside this block continues the caller's trace.
            with set_tracing_context_from_http_request_headers(headers):
                return {"sources": search(body)}
        return {"sources": search(body)}  # no caller trace: a trace of its own

    return app


def create_gateway_app(retriever_url: str) -> FastAPI:
    """The gateway service, which calls the retriever at ``retriever_url`` (e.g.
    ``"http://127.0.0.1:8001"``).

    ``POST /ask`` with ``{"question": str}`` answers ``{"answer": str, "sources":
    [names], "trace_id": the MLflow trace id of this request}``: it asks the retriever
    (``POST {retriever_url}/search`` with ``{"question": ..., "k": 2}``) and answers with
    ``_answer_from(question, sources)``.

    Each request is ONE trace: a root span ``gateway.ask`` (CHAIN, inputs
    ``{"question": ...}``, outputs ``{"answer": ...}``) with a child span
    ``gateway.call_retriever`` (TOOL) around the HTTP call. The call carries the
    tracing headers of that child span (``get_tracing_context_headers_for_http_request``
    called inside it), so that the retriever's span becomes its child in the same trace.
    """
    app = FastAPI(title="gateway")
    search_url = retriever_url.rstrip("/") + "/search"

    @app.post("/ask")
    def ask(body: AskRequest) -> dict:
        with mlflow.start_span("gateway.ask", span_type=SpanType.CHAIN) as root:
            root.set_inputs({"question": body.question})
            with mlflow.start_span("gateway.call_retriever", span_type=SpanType.TOOL) as call:
                call.set_inputs({"url": search_url, "question": body.question})
                # Taken here, the headers name this span as the remote parent.
                headers = get_tracing_context_headers_for_http_request()
                response = httpx.post(
                    search_url,
                    json={"question": body.question, "k": 2},
                    headers=headers,
                    timeout=30,
                )
                response.raise_for_status()
                sources = response.json()["sources"]
                call.set_outputs(sources)
            answer = _answer_from(body.question, sources)
            root.set_outputs({"answer": answer})
            return {"answer": answer, "sources": sources, "trace_id": root.trace_id}

    return app
