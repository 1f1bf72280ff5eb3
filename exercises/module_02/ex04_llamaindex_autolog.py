"""Exercise 4: LlamaIndex autologging, and reading the retrieval out of a trace.

The plan's ``spark_llamaindex_rag.py`` answers questions over documents with a
LlamaIndex query engine and traces it with ``mlflow.llama_index.autolog()``.
Build a small version over the kata's corpus (``fixtures/corpus/*.md``):

1. ``build_query_engine``: one ``Document`` per file, with the file name in its
   metadata, a ``VectorStoreIndex``, and a query engine returning the
   ``TOP_K`` best chunks. Offline, it uses the kata's deterministic models:
   ``fixtures.llama.KeywordEmbedding`` (texts sharing words are close) and
   ``fixtures.llama.ExtractiveLLM`` (answers with the best sentence of the
   context). Pass real models to use Ollama or OpenAI instead.
2. ``ask``: one question, traced by autolog. The trace looks like this:

       RetrieverQueryEngine.query (CHAIN)
         - ... retrieve (RETRIEVER)     outputs: [{"page_content", "metadata", "id"}, ...]
             - ... (EMBEDDING)
         - ... synthesize (CHAIN)
             - ... (LLM)

3. ``retrieved_sources``: given any trace, the file names its retriever
   returned, best first: the question "where did this answer come from?"
   answered from the trace alone.

MLflow API practised: ``mlflow.llama_index.autolog()``; the RETRIEVER span's
outputs; ``Trace.data.spans``, ``span.span_type``, ``span.outputs``.
LlamaIndex: ``Document(text=, metadata=)``, ``VectorStoreIndex.from_documents``,
``index.as_query_engine(llm=, similarity_top_k=)``.

Done looks like this: in the UI, a question's trace shows the retrieved chunks
with their file names and scores, and the prompt the LLM got.

Run the checks: ``uv run pytest exercises/module_02/test_ex04_llamaindex_autolog.py``
"""

from __future__ import annotations

from typing import Any

import mlflow  # noqa: F401 - you will need it
from llama_index.core import Document, VectorStoreIndex  # noqa: F401 - you will need these
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
    # TODO: fill in the defaults, make one Document per file (metadata {SOURCE_KEY: name}),
    #       index them with the embedding model and return a query engine that uses the
    #       llm and retrieves TOP_K chunks.
    raise NotImplementedError("build_query_engine: not written yet (see the TODO above)")


def ask(query_engine: BaseQueryEngine, question: str) -> str:
    """Ask one question, traced by LlamaIndex autologging; return the answer text.

    Each call is one trace: a CHAIN (the query) with a RETRIEVER span, whose
    outputs are the retrieved chunks, and the LLM call under it.
    """
    # TODO: switch on LlamaIndex autologging, query the engine, return the answer as text.
    raise NotImplementedError("ask: not written yet (see the TODO above)")


def retrieved_sources(trace: Trace) -> list[str]:
    """The file names (``SOURCE_KEY`` in each chunk's metadata) in the outputs of the
    trace's first RETRIEVER span, best match first; ``[]`` if there is none."""
    # TODO: find the RETRIEVER spans in trace.data.spans, take the one that started first,
    #       and read SOURCE_KEY from the metadata of each chunk in its outputs.
    raise NotImplementedError("retrieved_sources: not written yet (see the TODO above)")
