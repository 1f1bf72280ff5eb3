"""Reference solution for module_02/ex01_decorator_tracing: a pipeline traced with decorators."""

from __future__ import annotations

import re

import mlflow
from mlflow.entities import SpanType

PIPELINE_SPAN = "qa_pipeline"
MODEL_NAME = "kata-template-llm"
TOP_K = 2

KNOWLEDGE_BASE = {
    "traces.md": (
        "A trace records one request to your app from start to finish. "
        "It holds a tree of spans and the request's inputs and outputs."
    ),
    "spans.md": (
        "A span is one step of a request, such as a retrieval or a model call. "
        "Every span has a name, a type, inputs, outputs, attributes and a status."
    ),
    "autolog.md": (
        "Autologging traces a framework for you with one call, such as "
        "mlflow.langchain.autolog(). Manual tracing covers your own functions."
    ),
    "search.md": (
        "You find traces by what they carry: tags, status, session, user and time. "
        "mlflow.search_traces takes a filter string."
    ),
}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _rank(question: str, top_k: int) -> list[str]:
    """The ids of the ``top_k`` documents sharing most words with the question."""
    wanted = _words(question)
    scored = sorted(
        KNOWLEDGE_BASE, key=lambda doc: (-len(wanted & _words(KNOWLEDGE_BASE[doc])), doc)
    )
    return scored[:top_k]


def _compose_answer(question: str, documents: list[dict]) -> str:
    """What our stand-in LLM answers: the first sentence of the best document."""
    if not documents:
        return "I don't know."
    best = documents[0]
    first_sentence = best["page_content"].split(". ")[0].rstrip(".") + "."
    return f"{first_sentence} (source: {best['id']})"


# span_type tells the UI (and your searches) what kind of step a span is. RETRIEVER spans
# that return documents as {"page_content", "metadata", "id"} are shown as documents.
@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(question: str, top_k: int = TOP_K) -> list[dict]:
    """Find the ``top_k`` documents of ``KNOWLEDGE_BASE`` that best match the question.

    Returns them best first, each as a document dict that MLflow's UI renders:
    ``{"id": <doc id>, "page_content": <text>, "metadata": {"doc_uri": <doc id>}}``.
    The span records the attribute ``top_k``.
    """
    # Attributes that depend on the call are set on the span that is open right now.
    mlflow.get_current_active_span().set_attribute("top_k", top_k)
    return [
        {"id": doc, "page_content": KNOWLEDGE_BASE[doc], "metadata": {"doc_uri": doc}}
        for doc in _rank(question, top_k)
    ]


# Attributes known in advance can go straight into the decorator.
@mlflow.trace(span_type=SpanType.LLM, attributes={"model": MODEL_NAME})
def generate(question: str, documents: list[dict]) -> str:
    """Our stand-in LLM: answer the question from the retrieved documents.

    The span records the attribute ``model`` = ``MODEL_NAME``.
    """
    return _compose_answer(question, documents)


# name= replaces the default span name (the function's name).
@mlflow.trace(name=PIPELINE_SPAN, span_type=SpanType.CHAIN)
def answer_question(question: str) -> str:
    """The whole pipeline: retrieve, then generate. One call is one trace whose root
    span is a CHAIN named ``PIPELINE_SPAN``, with the two steps as its children."""
    documents = retrieve(question)
    return generate(question, documents)
