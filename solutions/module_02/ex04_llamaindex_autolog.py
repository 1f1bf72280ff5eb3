"""Reference solution for module_02/ex04_llamaindex_autolog: a LlamaIndex query engine, traced."""

from __future__ import annotations

from typing import Any

import mlflow
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.base_query_engine import BaseQueryEngine
from mlflow.entities import Trace

TOP_K = 3
SOURCE_KEY = "file_name"


def build_query_engine(
    documents: dict[str, str] | None = None, llm: Any = None, embed_model: Any = None
) -> BaseQueryEngine:
    """A query engine over ``documents`` ({file name: text}; default: the kata's corpus,
    ``fixtures.data.load_corpus()``), answering from the ``TOP_K`` best chunks.

    Each ``Document`` carries its file name in its metadata under ``SOURCE_KEY``,
    so that the retrieved chunks say where they come from. ``llm`` and
    ``embed_model`` default to the kata's offline models,
    ``fixtures.llama.ExtractiveLLM()`` and ``fixtures.llama.KeywordEmbedding()``;
    pass e.g. ``llama_index.llms.ollama.Ollama(model="llama3.2")`` to use a real one.
    """
    if documents is None:
        from fixtures.data import load_corpus

        documents = load_corpus()
    if llm is None or embed_model is None:
        from fixtures.llama import ExtractiveLLM, KeywordEmbedding

        llm = llm or ExtractiveLLM()
        embed_model = embed_model or KeywordEmbedding()
    docs = [
        Document(text=text, metadata={SOURCE_KEY: name}, id_=name)
        for name, text in documents.items()
    ]
    # Passing the models explicitly (rather than through llama_index.core.Settings)
    # keeps this engine independent of whatever else runs in the process.
    index = VectorStoreIndex.from_documents(docs, embed_model=embed_model)
    return index.as_query_engine(llm=llm, similarity_top_k=TOP_K)


def ask(query_engine: BaseQueryEngine, question: str) -> str:
    """Ask one question, traced by LlamaIndex autologging; return the answer text.

    Each call is one trace: a CHAIN (the query) with a RETRIEVER span, whose
    outputs are the retrieved chunks, and the LLM call under it.
    """
    # Switching autolog on is cheap when it is already on. Doing it here, rather than
    # before building the index, also keeps the indexing work out of the traces.
    mlflow.llama_index.autolog()
    return str(query_engine.query(question))


def retrieved_sources(trace: Trace) -> list[str]:
    """The file names (``SOURCE_KEY`` in each chunk's metadata) in the outputs of the
    trace's first RETRIEVER span, best match first; ``[]`` if there is none."""
    retrievers = [span for span in trace.data.spans if span.span_type == "RETRIEVER"]
    if not retrievers:
        return []
    first = min(retrievers, key=lambda span: span.start_time_ns)
    return [chunk["metadata"][SOURCE_KEY] for chunk in first.outputs or []]
