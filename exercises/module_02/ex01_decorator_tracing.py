"""Exercise 1: trace a small pipeline of plain functions with ``@mlflow.trace``.

A question-answering pipeline has two steps: ``retrieve`` finds documents in a
tiny in-memory knowledge base, ``generate`` (a stand-in for an LLM) answers
from them, and ``answer_question`` runs both. Instrument it so that one call
of ``answer_question`` becomes one trace whose span tree reads like the code:

    qa_pipeline (CHAIN)          inputs {"question"}, output: the answer
      - retrieve (RETRIEVER)     inputs {"question", "top_k"}; output: the documents;
                                 attribute top_k
      - generate (LLM)           inputs {"question", "documents"}; attribute model

MLflow API practised: the ``@mlflow.trace`` decorator with ``name=``,
``span_type=`` (``mlflow.entities.SpanType``) and ``attributes=``, and
``mlflow.get_current_active_span()`` to add an attribute from inside a
traced function. The step names are yours to choose; the pipeline span must
be named ``PIPELINE_SPAN``.

Done looks like this: in the UI the trace shows ``qa_pipeline`` with the
retriever and LLM steps under it, the retrieved documents rendered as
documents, and each span's inputs, outputs and attributes.

Run the checks: ``uv run pytest exercises/module_02/test_ex01_decorator_tracing.py``
"""

from __future__ import annotations

import re

import mlflow  # noqa: F401 - you will need it
from mlflow.entities import SpanType  # noqa: F401 - CHAIN, RETRIEVER, LLM, TOOL ...

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


# --- ready-made helpers: the pipeline's logic, so you can focus on tracing it --------


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


# --- your part ----------------------------------------------------------------------


def retrieve(question: str, top_k: int = TOP_K) -> list[dict]:
    """Find the ``top_k`` documents of ``KNOWLEDGE_BASE`` that best match the question.

    Returns them best first, each as a document dict that MLflow's UI renders:
    ``{"id": <doc id>, "page_content": <text>, "metadata": {"doc_uri": <doc id>}}``.
    The span records the attribute ``top_k``.
    """
    # TODO: trace this function as a RETRIEVER span; set the attribute top_k on the active
    #       span; return one document dict per id that _rank(question, top_k) gives.
    raise NotImplementedError("retrieve: not written yet (see the TODO above)")


def generate(question: str, documents: list[dict]) -> str:
    """Our stand-in LLM: answer the question from the retrieved documents.

    The span records the attribute ``model`` = ``MODEL_NAME``.
    """
    # TODO: trace this function as an LLM span with the attribute model=MODEL_NAME, and
    #       return _compose_answer(question, documents).
    raise NotImplementedError("generate: not written yet (see the TODO above)")


def answer_question(question: str) -> str:
    """The whole pipeline: retrieve, then generate. One call is one trace whose root
    span is a CHAIN named ``PIPELINE_SPAN``, with the two steps as its children."""
    # TODO: trace this function as a CHAIN span named PIPELINE_SPAN; call retrieve, then
    #       generate, and return the answer.
    raise NotImplementedError("answer_question: not written yet (see the TODO above)")
