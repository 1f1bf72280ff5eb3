"""Checks for ex04_llamaindex_autolog: a LlamaIndex query engine traced by autolog."""

from typing import Any

import mlflow
import pytest
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback

from fixtures.data import load_corpus, load_questions
from fixtures.llama import KeywordEmbedding
from fixtures.messages import shown
from fixtures.traces import (
    assert_child_of,
    find_span,
    find_spans,
    root_span,
    span_tree,
    trace_of,
    traces_of,
)

QUESTIONS = load_questions()
PROMPTS_QUESTION = QUESTIONS[1]  # "How are variables written in a prompt registry template?"
CHUNKING_QUESTION = QUESTIONS[9]  # "Why add an overlap between consecutive chunks?"


@pytest.fixture
def engine(exercise):
    return exercise.build_query_engine()


def test_ask_answers_from_the_documents(exercise, engine):
    for question in (PROMPTS_QUESTION, CHUNKING_QUESTION):
        answer = exercise.ask(engine, question["question"])
        assert question["answer"] in answer, (
            f"expected the answer to {question['question']!r} to contain "
            f"{question['answer']!r} (from {question['source']}); got {shown(answer)}"
        )


def test_a_question_is_one_trace_with_the_retrieval_and_the_llm_under_the_query(exercise, engine):
    _, traces = traces_of(exercise.ask, engine, PROMPTS_QUESTION["question"])

    assert len(traces) == 1, (
        f"expected one trace per question; ask(...) recorded {len(traces)}. Switch on "
        "mlflow.llama_index.autolog() before the query runs (and keep indexing out of ask)."
    )
    trace = traces[0]
    root = root_span(trace)
    assert root.span_type == "CHAIN", (
        f"expected the query to be the root CHAIN span; found spans:\n{span_tree(trace)}"
    )
    retriever = find_span(trace, span_type="RETRIEVER")
    assert_child_of(trace, retriever, parent_name=root.name)
    llms = find_spans(trace, span_type="LLM") + find_spans(trace, span_type="CHAT_MODEL")
    assert llms, f"expected an LLM span in the query's trace; found spans:\n{span_tree(trace)}"


def test_the_retriever_span_outputs_name_the_source_documents(exercise, engine):
    _, trace = trace_of(exercise.ask, engine, CHUNKING_QUESTION["question"])

    chunks = find_span(trace, span_type="RETRIEVER").outputs or []
    assert len(chunks) == exercise.TOP_K, (
        f"expected the RETRIEVER span to output the {exercise.TOP_K} best chunks "
        f"(similarity_top_k); found {len(chunks)}"
    )
    sources = [(chunk.get("metadata") or {}).get(exercise.SOURCE_KEY) for chunk in chunks]
    corpus = set(load_corpus())
    assert all(source in corpus for source in sources), (
        f"expected every retrieved chunk's metadata to name its source file under "
        f"{exercise.SOURCE_KEY!r} (one of {sorted(corpus)}); found {sources}. Give each "
        "Document metadata={SOURCE_KEY: file_name}."
    )
    assert sources[0] == CHUNKING_QUESTION["source"], (
        f"expected the best chunk for {CHUNKING_QUESTION['question']!r} to come from "
        f"{CHUNKING_QUESTION['source']}; the retriever returned {sources}. Use the "
        "deterministic KeywordEmbedding so that retrieval is meaningful."
    )


class _CannedLLM(CustomLLM):
    """Answers every prompt with the same text and remembers the prompts."""

    prompts: list[str] = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="canned")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text="a canned answer")

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        raise NotImplementedError("the test's LLM does not stream")


def test_your_own_documents_and_llm_are_used(exercise):
    documents = {
        "owls.md": "Owls hunt at night and sleep during the day.",
        "bees.md": "Bees make honey from the nectar of flowers.",
    }
    llm = _CannedLLM(prompts=[])
    engine = exercise.build_query_engine(documents, llm=llm)

    answer, trace = trace_of(exercise.ask, engine, "What do bees make?")

    assert answer == "a canned answer" and llm.prompts, (
        f"expected build_query_engine(..., llm=my_llm) to answer with my_llm; got {shown(answer)}"
    )
    assert "Bees make honey" in llm.prompts[-1], (
        "expected the LLM's prompt to hold the retrieved text of bees.md; found "
        f"{llm.prompts[-1][:300]!r}"
    )
    first = _retrieved_files(trace)[:1]
    assert first == ["bees.md"], (
        f"expected bees.md to be retrieved first from the documents given; found {first}"
    )


def _retrieved_files(trace) -> list:
    """The file names in the first RETRIEVER span's output chunks, read by the test itself."""
    chunks = find_span(trace, span_type="RETRIEVER").outputs or []
    return [
        (chunk.get("metadata") or {}).get("file_name") if isinstance(chunk, dict) else chunk
        for chunk in chunks
    ]


class _OppositeEmbedding(KeywordEmbedding):
    """Ranks documents backwards: a question is far from the texts it shares words with."""

    def _get_query_embedding(self, query: str) -> list[float]:
        return [-x for x in super()._get_query_embedding(query)]


def test_your_own_embedding_model_is_used(exercise):
    documents = {
        "owls.md": "Owls hunt at night and sleep during the day.",
        "bees.md": "Bees make honey from the nectar of flowers.",
    }
    engine = exercise.build_query_engine(documents, embed_model=_OppositeEmbedding())

    _, trace = trace_of(exercise.ask, engine, "What do bees make?")

    found = _retrieved_files(trace)
    assert found[:1] == ["owls.md"], (
        "expected build_query_engine(..., embed_model=my_model) to index and retrieve with "
        "my_model, which ranks owls.md first for 'What do bees make?'; the retriever "
        f"returned {found}"
    )


def _retriever_trace(*names: str):
    """A trace made without LlamaIndex: a CHAIN with a RETRIEVER returning chunks of names."""

    @mlflow.trace(span_type="RETRIEVER")
    def search(query: str) -> list[dict]:
        return [
            {"page_content": f"text of {n}", "metadata": {"file_name": n, "score": 1 / (i + 1)}}
            for i, n in enumerate(names)
        ]

    @mlflow.trace(span_type="CHAIN")
    def pipeline(query: str) -> str:
        search(query)
        return "done"

    return trace_of(pipeline, "anything")[1]


def test_retrieved_sources_reads_the_file_names_from_any_trace_in_rank_order(exercise):
    trace = _retriever_trace("zebra.md", "apple.md", "mango.md")

    sources = exercise.retrieved_sources(trace)

    assert sources == ["zebra.md", "apple.md", "mango.md"], (
        "expected retrieved_sources to return the file names of the RETRIEVER span's output "
        f"chunks, best first (as retrieved, not sorted); got {shown(sources)}.\n"
        f"spans:\n{span_tree(trace)}"
    )


def test_retrieved_sources_reads_only_the_first_retriever_span(exercise):
    @mlflow.trace(span_type="RETRIEVER")
    def search(query: str) -> list[dict]:
        return [{"page_content": f"text of {n}", "metadata": {"file_name": n}} for n in names]

    @mlflow.trace(span_type="CHAIN")
    def pipeline(query: str) -> str:
        nonlocal names
        names = ["first.md", "second.md"]
        search(query)
        names = ["again.md"]
        search(query + " again")
        return "done"

    names: list[str] = []
    _, trace = trace_of(pipeline, "anything")

    sources = exercise.retrieved_sources(trace)

    assert sources == ["first.md", "second.md"], (
        "expected retrieved_sources to read the RETRIEVER span that started first (this trace "
        f"has two: first.md, second.md, then again.md); got {shown(sources)}.\n"
        f"spans:\n{span_tree(trace)}"
    )


def test_retrieved_sources_of_a_trace_without_retrieval_is_empty(exercise):
    @mlflow.trace(span_type="CHAIN")
    def no_retrieval(query: str) -> str:
        return query

    _, trace = trace_of(no_retrieval, "anything")

    sources = exercise.retrieved_sources(trace)

    assert sources == [], f"expected [] for a trace with no RETRIEVER span; got {shown(sources)}"
