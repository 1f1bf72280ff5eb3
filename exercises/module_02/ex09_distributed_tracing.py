"""Exercise 9: distributed tracing, one trace across two services.

A real app is rarely one process: a gateway calls a retriever, which calls a model
server... Each service traces its own work, and without help each request would leave
one trace PER SERVICE, in pieces. MLflow joins them the way OpenTelemetry does: the
caller sends its current span in a W3C ``traceparent`` HTTP header, and the callee
opens its spans under that remote parent. One question is then ONE trace whose span
tree crosses both services:

    gateway.ask (CHAIN)                      <- gateway
      gateway.call_retriever (TOOL)          <- gateway: the HTTP call
        retriever.search (RETRIEVER)         <- retriever, in the same trace

Build the two FastAPI services:

1. ``create_retriever_app``: ``POST /search`` finds documents (``_search`` is given),
   in a ``retriever.search`` span that joins the caller's trace when the request
   carries a ``traceparent`` header.
2. ``create_gateway_app``: ``POST /ask`` calls the retriever over HTTP with the
   tracing headers of its call span, and answers (``_answer_from`` is given).

APIs practised: ``mlflow.tracing.get_tracing_context_headers_for_http_request`` (the
caller's side), ``mlflow.tracing.set_tracing_context_from_http_request_headers`` (the
callee's side), ``mlflow.start_span`` with ``span_type``, ``span.trace_id``.

Done looks like this: both services running, one ``POST /ask`` leaves ONE trace in
MLflow with the three spans above, even when the retriever runs in another process.

Run the checks: ``uv run pytest exercises/module_02/test_ex09_distributed_tracing.py``
(the tests serve both apps for real on 127.0.0.1; the last one starts the retriever in
a process of its own, a few seconds)
"""

from __future__ import annotations

import re

import httpx  # noqa: F401 - the gateway calls the retriever with it
import mlflow  # noqa: F401 - you will need these
from fastapi import FastAPI, Request  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401
from mlflow.tracing import (  # noqa: F401
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
    # TODO: make a FastAPI app with a POST /search route taking a SearchRequest body and
    #       the Request; inside, if the request's headers carry a traceparent, enter
    #       set_tracing_context_from_http_request_headers(headers) and open the
    #       retriever.search span (RETRIEVER) inside it; otherwise open the span directly.
    #       Record the inputs and outputs on the span; return {"sources": ...}.
    raise NotImplementedError("create_retriever_app: not written yet (see the TODO above)")


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
    # TODO: make a FastAPI app with a POST /ask route taking an AskRequest body; open the
    #       gateway.ask span (CHAIN), inside it the gateway.call_retriever span (TOOL), and
    #       inside THAT one take get_tracing_context_headers_for_http_request() and pass
    #       them to httpx.post(...). Answer with the sources, the answer and span.trace_id.
    raise NotImplementedError("create_gateway_app: not written yet (see the TODO above)")
