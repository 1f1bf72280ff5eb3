"""Exercise 3: a LlamaIndex RAG over the Spark chunks, traced by MLflow autolog.

Retrieval-augmented generation in four pieces: the chunks become LlamaIndex
*nodes*; an *embedding model* turns each node into a vector, kept in a
``VectorStoreIndex`` (an in-memory vector store); a *query engine* embeds the
question, retrieves the ``top_k`` closest nodes and hands them to an *LLM*
with the question; and ``mlflow.llama_index.autolog()`` records every query as
a trace (CHAIN > RETRIEVER > EMBEDDING, LLM), so you can see what was
retrieved for which answer.

Build:

1. ``chunks_to_nodes(chunks)``: exercise 2's chunks DataFrame -> ``TextNode``s
   that keep the chunk id and, as metadata, the source file.
2. ``make_llm(llm_type, model)`` and ``make_embed_model(llm_type)``: the models
   of a backend, ``"mock"`` (offline, deterministic, from ``fixtures.llama``),
   ``"ollama"`` or ``"openai"``; endpoints come from the environment, never
   from your code.
3. ``build_query_engine(nodes, llm_type, top_k, model)``: autolog on, index,
   query engine with ``similarity_top_k=top_k``.
4. ``ask(query_engine, question)``: the answer and the retrieved sources.

Why not LlamaIndex's ``MockEmbedding``? It gives every text the same vector, so
every chunk is equally "similar" and retrieval is random. The kit's
``KeywordEmbedding`` is a hashed bag of words: texts sharing words are close.

LlamaIndex and MLflow APIs practised: ``TextNode``, ``VectorStoreIndex(nodes,
embed_model=...)``, ``index.as_query_engine(llm=..., similarity_top_k=...)``,
``response.source_nodes``, ``llama_index.llms.ollama.Ollama``,
``llama_index.llms.openai.OpenAI``, ``mlflow.llama_index.autolog``.

Done looks like this: ``ask(engine, "Which decorator adds manual tracing ...?")``
returns ``{"answer": "...@mlflow.trace...", "sources": ["mlflow_tracing.md", ...]}``
and the MLflow UI shows its trace with the retrieved chunks.

Run the checks: ``uv run pytest exercises/module_05/test_ex03_llamaindex_rag.py``
"""

from __future__ import annotations

import os  # noqa: F401 - endpoints come from the environment
from typing import Any

import mlflow  # noqa: F401 - you will need it
from llama_index.core import VectorStoreIndex  # noqa: F401 - you will need it
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM
from llama_index.core.schema import TextNode
from pyspark.sql import DataFrame

from fixtures.llama import ExtractiveLLM, KeywordEmbedding  # noqa: F401 - the mock backend

LLM_TYPES = ("mock", "ollama", "openai")
DEFAULT_MODELS = {"ollama": "llama3.2", "openai": "gpt-4o-mini"}
EMBEDDING_MODELS = {"ollama": "nomic-embed-text", "openai": "text-embedding-3-small"}
OLLAMA_DEFAULT_HOST = "http://localhost:11434"


def chunks_to_nodes(chunks: DataFrame) -> list[TextNode]:
    """One LlamaIndex ``TextNode`` per row of a chunks DataFrame (exercise 2's columns
    ``chunk_id``, ``path``, ``source``, ``chunk_index``, ``text``).

    Each node has ``id_`` = the row's ``chunk_id``, ``text`` = its text, and the
    metadata ``{"source": ..., "path": ..., "chunk_index": ...}`` from the row.
    """
    # TODO: collect the rows to the driver and build a TextNode(id_=..., text=..., metadata=...)
    #       for each.
    raise NotImplementedError("chunks_to_nodes: not written yet (see the TODO above)")


def make_llm(llm_type: str = "mock", model: str | None = None) -> LLM:
    """The LLM for ``llm_type``:

    - ``"mock"``:   ``fixtures.llama.ExtractiveLLM()``, offline and deterministic;
    - ``"ollama"``: LlamaIndex's ``Ollama`` (model ``model`` or ``"llama3.2"``) at the
      address in ``OLLAMA_HOST`` (default ``http://localhost:11434``);
    - ``"openai"``: LlamaIndex's ``OpenAI`` (model ``model`` or ``"gpt-4o-mini"``),
      which reads ``OPENAI_API_KEY``; the endpoint comes from ``OPENAI_BASE_URL``
      or ``OPENAI_API_BASE`` when one is set.

    Raises:
        ValueError: any other ``llm_type``; the message lists the valid ones.
    """
    # TODO: return ExtractiveLLM() for "mock"; import and build Ollama(model=..., base_url=...)
    #       or OpenAI(model=..., api_base=...) inside their branches (LlamaIndex's Ollama does
    #       not read OLLAMA_HOST by itself); raise ValueError for anything else.
    raise NotImplementedError("make_llm: not written yet (see the TODO above)")


def make_embed_model(llm_type: str = "mock") -> BaseEmbedding:
    """The embedding model that goes with ``llm_type``:

    - ``"mock"``:   ``fixtures.llama.KeywordEmbedding()``, a local bag-of-words
      embedding (texts that share words are close);
    - ``"ollama"``: ``OllamaEmbedding`` with ``"nomic-embed-text"`` at ``OLLAMA_HOST``;
    - ``"openai"``: ``OpenAIEmbedding`` with ``"text-embedding-3-small"``.

    Raises:
        ValueError: any other ``llm_type``.
    """
    # TODO: the same three branches, with KeywordEmbedding, OllamaEmbedding
    #       (llama_index.embeddings.ollama) and OpenAIEmbedding (llama_index.embeddings.openai).
    raise NotImplementedError("make_embed_model: not written yet (see the TODO above)")


def build_query_engine(
    nodes: list[TextNode], llm_type: str = "mock", top_k: int = 3, model: str | None = None
) -> BaseQueryEngine:
    """A query engine over ``nodes`` that retrieves the ``top_k`` most similar chunks
    and answers with the LLM of ``llm_type`` (see ``make_llm``, ``make_embed_model``).

    Turn on MLflow's LlamaIndex autologging first, so that every query becomes a
    trace with a RETRIEVER span listing the retrieved chunks and their metadata.
    """
    # TODO: mlflow.llama_index.autolog(); build a VectorStoreIndex from the nodes with the
    #       embedding model; return index.as_query_engine(llm=..., similarity_top_k=top_k).
    raise NotImplementedError("build_query_engine: not written yet (see the TODO above)")


def ask(query_engine: BaseQueryEngine, question: str) -> dict[str, Any]:
    """Ask one question.

    Returns:
        ``{"answer": <the response text>, "sources": [<the "source" metadata of each
        retrieved chunk, best first>]}`` (one entry per retrieved chunk, so a
        document can appear more than once).
    """
    # TODO: query the engine; the answer is str(response), the sources come from
    #       response.source_nodes (each has .node.metadata).
    raise NotImplementedError("ask: not written yet (see the TODO above)")
