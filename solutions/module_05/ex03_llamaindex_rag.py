"""Reference solution for module_05/ex03_llamaindex_rag: a traced RAG over Spark chunks."""

from __future__ import annotations

import os
from typing import Any

import mlflow
from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM
from llama_index.core.schema import TextNode
from pyspark.sql import DataFrame

from fixtures.llama import ExtractiveLLM, KeywordEmbedding

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
    # collect() brings the chunks to the driver: the index lives in this process.
    return [
        TextNode(
            id_=row["chunk_id"],
            text=row["text"],
            metadata={
                "source": row["source"],
                "path": row["path"],
                "chunk_index": row["chunk_index"],
            },
        )
        for row in chunks.collect()
    ]


def _ollama_host() -> str:
    """Where Ollama listens: OLLAMA_HOST as the ollama CLI reads it, else its default."""
    host = os.environ.get("OLLAMA_HOST") or OLLAMA_DEFAULT_HOST
    return host if "://" in host else f"http://{host}"


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
    if llm_type == "mock":
        return ExtractiveLLM()
    if llm_type == "ollama":
        from llama_index.llms.ollama import Ollama

        # LlamaIndex's Ollama ignores OLLAMA_HOST: pass the address yourself.
        return Ollama(
            model=model or DEFAULT_MODELS["ollama"], base_url=_ollama_host(), request_timeout=120
        )
    if llm_type == "openai":
        from llama_index.llms.openai import OpenAI

        # api_base=None falls back to OPENAI_API_BASE, then to api.openai.com.
        return OpenAI(
            model=model or DEFAULT_MODELS["openai"], api_base=os.environ.get("OPENAI_BASE_URL")
        )
    raise ValueError(f"unknown llm_type {llm_type!r}; use one of {', '.join(LLM_TYPES)}")


def make_embed_model(llm_type: str = "mock") -> BaseEmbedding:
    """The embedding model that goes with ``llm_type``:

    - ``"mock"``:   ``fixtures.llama.KeywordEmbedding()``, a local bag-of-words
      embedding (texts that share words are close);
    - ``"ollama"``: ``OllamaEmbedding`` with ``"nomic-embed-text"`` at ``OLLAMA_HOST``;
    - ``"openai"``: ``OpenAIEmbedding`` with ``"text-embedding-3-small"``.

    Raises:
        ValueError: any other ``llm_type``.
    """
    if llm_type == "mock":
        return KeywordEmbedding()
    if llm_type == "ollama":
        from llama_index.embeddings.ollama import OllamaEmbedding

        return OllamaEmbedding(model_name=EMBEDDING_MODELS["ollama"], base_url=_ollama_host())
    if llm_type == "openai":
        from llama_index.embeddings.openai import OpenAIEmbedding

        return OpenAIEmbedding(
            model=EMBEDDING_MODELS["openai"], api_base=os.environ.get("OPENAI_BASE_URL")
        )
    raise ValueError(f"unknown llm_type {llm_type!r}; use one of {', '.join(LLM_TYPES)}")


def build_query_engine(
    nodes: list[TextNode], llm_type: str = "mock", top_k: int = 3, model: str | None = None
) -> BaseQueryEngine:
    """A query engine over ``nodes`` that retrieves the ``top_k`` most similar chunks
    and answers with the LLM of ``llm_type`` (see ``make_llm``, ``make_embed_model``).

    Turn on MLflow's LlamaIndex autologging first, so that every query becomes a
    trace with a RETRIEVER span listing the retrieved chunks and their metadata.
    """
    # Autolog patches LlamaIndex: from now on every query is traced.
    mlflow.llama_index.autolog()
    llm = make_llm(llm_type, model)
    # Nodes go into the index as they are: no second splitting by LlamaIndex.
    index = VectorStoreIndex(nodes, embed_model=make_embed_model(llm_type))
    return index.as_query_engine(llm=llm, similarity_top_k=top_k)


def ask(query_engine: BaseQueryEngine, question: str) -> dict[str, Any]:
    """Ask one question.

    Returns:
        ``{"answer": <the response text>, "sources": [<the "source" metadata of each
        retrieved chunk, best first>]}`` (one entry per retrieved chunk, so a
        document can appear more than once).
    """
    response = query_engine.query(question)
    return {
        "answer": str(response),
        "sources": [hit.node.metadata.get("source") for hit in response.source_nodes],
    }
