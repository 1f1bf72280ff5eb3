"""Checks for ex03_llamaindex_rag: a LlamaIndex RAG over the chunks, traced by autolog.

Only the first test needs Spark; the others build nodes from the kit's corpus
themselves. Ollama and OpenAI are the fake LLM server (``fake_llm_env``).
"""

import mlflow
import pytest

from fixtures.data import load_corpus, load_questions
from fixtures.traces import find_spans, last_trace, search_traces, span_tree

CHUNK_SIZE, CHUNK_OVERLAP = 512, 50


def corpus_nodes(size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list:
    """TextNodes of the kit's corpus, as chunks_to_nodes would make them."""
    from llama_index.core.schema import TextNode

    nodes = []
    for source, text in load_corpus().items():
        for index, start in enumerate(range(0, max(len(text) - overlap, 1), size - overlap)):
            nodes.append(
                TextNode(
                    id_=f"file:/docs/{source}#{index}",
                    text=text[start : start + size],
                    metadata={
                        "source": source,
                        "path": f"file:/docs/{source}",
                        "chunk_index": index,
                    },
                )
            )
    return nodes


def retriever_sources(trace) -> list:
    """The "source" metadata of the chunks in the trace's RETRIEVER span outputs."""
    spans = find_spans(trace, span_type="RETRIEVER")
    assert spans, "expected a RETRIEVER span in the query's trace; found:\n" + span_tree(trace)
    outputs = spans[0].outputs or []
    return [(doc.get("metadata") or {}).get("source") for doc in outputs]


def test_chunks_become_nodes_with_their_id_text_and_source(exercise, spark):
    rows = [
        ("file:/d/a.md#0", "file:/d/a.md", "a.md", 0, "Spans nest inside a trace."),
        ("file:/d/a.md#1", "file:/d/a.md", "a.md", 1, "A trace has one root span."),
        ("file:/d/sub/b.txt#0", "file:/d/sub/b.txt", "b.txt", 0, "Aliases point at versions."),
    ]
    chunks = spark.createDataFrame(
        rows, "chunk_id string, path string, source string, chunk_index int, text string"
    )

    nodes = exercise.chunks_to_nodes(chunks)

    found = sorted((n.node_id, n.text, n.metadata.get("source")) for n in nodes)
    expected = sorted((r[0], r[4], r[2]) for r in rows)
    assert found == expected, (
        "expected one node per chunk with id_ = chunk_id, text = the chunk's text and "
        f"metadata['source'] = its file name;\nexpected {expected}\nfound    {found}"
    )
    paths = sorted((n.metadata.get("path"), n.metadata.get("chunk_index")) for n in nodes)
    assert paths == sorted((r[1], r[3]) for r in rows), (
        f"expected metadata 'path' and 'chunk_index' from the rows; found {paths}"
    )


def test_the_mock_rag_retrieves_the_right_document_for_every_question(exercise):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=3)
    mlflow.llama_index.autolog(disable=True)  # tracing has its own test; 12 traces cost seconds

    misses = []
    for item in load_questions():
        result = exercise.ask(engine, item["question"])
        if item["source"] not in result["sources"]:
            misses.append(f"{item['question']!r}: wanted {item['source']}, got {result['sources']}")
    assert not misses, (
        "expected the source document among the top 3 chunks for every fixture question "
        "(with the mock backend, embed with fixtures.llama.KeywordEmbedding: LlamaIndex's "
        "MockEmbedding gives every text the same vector); missed:\n" + "\n".join(misses)
    )


def test_the_mock_rag_answers_from_the_retrieved_text(exercise):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=3)

    result = exercise.ask(engine, load_questions()[0]["question"])  # answer: @mlflow.trace

    assert isinstance(result.get("answer"), str) and "@mlflow.trace" in result["answer"], (
        "expected ask(...)['answer'] to be the engine's answer as text, quoting the tracing "
        f"document (the mock LLM is fixtures.llama.ExtractiveLLM); found {result!r}"
    )


@pytest.mark.parametrize("top_k", [1, 4])
def test_the_engine_retrieves_top_k_chunks(exercise, top_k):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=top_k)

    result = exercise.ask(engine, "How are variables written in a prompt registry template?")

    assert len(result["sources"]) == top_k, (
        f"expected {top_k} retrieved chunks with top_k={top_k} (pass it to the query engine "
        f"as similarity_top_k); found {len(result['sources'])}: {result['sources']}"
    )


def test_each_query_is_a_trace_whose_retriever_span_names_the_sources(exercise):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=3)

    result = exercise.ask(engine, "What does an alias of a registered model point to?")

    traces = search_traces(filter_string="span.type = 'RETRIEVER'")
    assert len(traces) == 1, (
        f"expected one trace with a RETRIEVER span for one question (turn on "
        f"mlflow.llama_index.autolog() in build_query_engine); found {len(traces)} such "
        f"traces, {len(search_traces())} traces in all"
    )
    sources = retriever_sources(traces[0])
    assert sources == result["sources"], (
        f"expected the RETRIEVER span's outputs to carry each chunk's 'source' metadata, "
        f"the same as ask(...)['sources'] = {result['sources']}; found {sources}"
    )


def test_an_unknown_llm_type_is_a_value_error_that_lists_the_valid_ones(exercise):
    try:
        got = exercise.make_llm("gpt-5-turbo-max")
    except ValueError as err:
        assert all(name in str(err) for name in ("mock", "ollama", "openai")), (
            f"expected the message to list mock, ollama and openai; found {str(err)!r}"
        )
    else:
        pytest.fail(
            f"expected ValueError for llm_type 'gpt-5-turbo-max'; make_llm returned {got!r}",
            pytrace=False,
        )


def _answer_through(exercise, engine, question):
    """ask(), with a connection problem reported as a failed expectation."""
    try:
        return exercise.ask(engine, question)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - the learner's client could not reach the server
        raise AssertionError(
            f"expected the query to reach the fake LLM server (OLLAMA_HOST / OPENAI_BASE_URL "
            f"point at it); it failed with {type(err).__name__}: {err}"
        ) from err


def test_the_ollama_backend_talks_to_the_server_in_ollama_host(exercise, fake_llm_env):
    fake_llm_env.script("Use the @mlflow.trace decorator.")
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="ollama", top_k=2)

    result = _answer_through(exercise, engine, "Which decorator adds manual tracing?")

    chats = [r for r in fake_llm_env.requests if r.path == "/api/chat"]
    embeds = [r for r in fake_llm_env.requests if r.path in ("/api/embed", "/api/embeddings")]
    assert chats and chats[-1].body.get("model") == "llama3.2", (
        f"expected a chat request to the Ollama API (/api/chat) for model 'llama3.2'; "
        f"requests seen: {[(r.path, (r.body or {}).get('model')) for r in fake_llm_env.requests]}"
    )
    assert embeds, (
        "expected the ollama backend to embed with Ollama too (OllamaEmbedding); requests "
        f"seen: {sorted({r.path for r in fake_llm_env.requests})}"
    )
    assert result["answer"] == "Use the @mlflow.trace decorator.", (
        f"expected the answer of the Ollama model; found {result['answer']!r}"
    )
    assert "@mlflow.trace" in chats[-1].last_user_text, (
        "expected the retrieved chunks in the prompt sent to Ollama; the last user message "
        f"was {chats[-1].last_user_text[:300]!r}"
    )


def test_the_openai_backend_talks_to_the_server_in_openai_base_url(exercise, fake_llm_env):
    fake_llm_env.script("Aliases point at model versions.")
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="openai", top_k=2)

    result = _answer_through(exercise, engine, "What does an alias of a registered model point to?")

    chats = [r for r in fake_llm_env.requests if r.path.endswith("/chat/completions")]
    embeds = [r for r in fake_llm_env.requests if r.path.endswith("/embeddings")]
    assert chats and chats[-1].body.get("model") == "gpt-4o-mini", (
        f"expected a chat completions request for model 'gpt-4o-mini'; requests seen: "
        f"{[(r.path, (r.body or {}).get('model')) for r in fake_llm_env.requests]}"
    )
    assert embeds, (
        "expected the openai backend to embed with OpenAI too (OpenAIEmbedding); requests "
        f"seen: {sorted({r.path for r in fake_llm_env.requests})}"
    )
    assert result["answer"] == "Aliases point at model versions.", (
        f"expected the answer of the OpenAI model; found {result['answer']!r}"
    )
    trace = last_trace()
    assert find_spans(trace, span_type="RETRIEVER"), (
        "expected the query to be traced with a RETRIEVER span; found:\n" + span_tree(trace)
    )
