"""Checks for ex03_llamaindex_rag: a LlamaIndex RAG over the chunks, traced by autolog.

Only the first test needs Spark; the others build nodes from the kit's corpus
themselves. Ollama and OpenAI are the fake LLM server (``fake_llm_env``).
"""

import mlflow
import pytest

from fixtures.data import load_corpus, load_questions
from fixtures.messages import shown
from fixtures.traces import find_spans, last_trace, search_traces, span_tree

CHUNK_SIZE, CHUNK_OVERLAP = 512, 50
# The backend tests embed every node through the fake server: two documents are enough.
BACKEND_SOURCES = ("mlflow_tracing.md", "mlflow_model_registry_aliases.md")


def corpus_nodes(
    size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP, sources: tuple[str, ...] | None = None
) -> list:
    """TextNodes of the kit's corpus (or of its documents ``sources``), as chunks_to_nodes
    would make them."""
    from llama_index.core.schema import TextNode

    nodes = []
    for source, text in load_corpus().items():
        if sources is not None and source not in sources:
            continue
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


def asked(exercise, engine, question: str) -> dict:
    """ask(engine, question), checked to be {"answer": str, "sources": list}."""
    result = exercise.ask(engine, question)
    assert (
        isinstance(result, dict)
        and isinstance(result.get("answer"), str)
        and isinstance(result.get("sources"), list)
    ), (
        'expected ask(...) to return {"answer": <the response text>, "sources": [<the source '
        f"of each retrieved chunk>]}}; got {shown(result)}"
    )
    return result


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

    from llama_index.core.schema import TextNode

    assert isinstance(nodes, list) and all(isinstance(n, TextNode) for n in nodes), (
        f"expected chunks_to_nodes to return a list of TextNode; got {shown(nodes)}"
    )
    found = sorted((n.node_id, n.text, n.metadata.get("source")) for n in nodes)
    expected = sorted((r[0], r[4], r[2]) for r in rows)
    assert found == expected, (
        "expected one node per chunk with id_ = chunk_id, text = the chunk's text and "
        f"metadata['source'] = its file name;\nexpected {expected}\nfound    {shown(found, 600)}"
    )
    paths = sorted(
        ((n.metadata.get("path"), n.metadata.get("chunk_index")) for n in nodes), key=str
    )
    assert paths == sorted((r[1], r[3]) for r in rows), (
        f"expected metadata 'path' and 'chunk_index' from the rows; found {shown(paths)}"
    )


def test_the_mock_rag_retrieves_the_right_document_for_every_question(exercise):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=3)
    mlflow.llama_index.autolog(disable=True)  # tracing has its own test; 12 traces cost seconds

    misses = []
    for item in load_questions():
        result = asked(exercise, engine, item["question"])
        if item["source"] not in result["sources"]:
            misses.append(
                f"{item['question']!r}: wanted {item['source']}, got {shown(result['sources'])}"
            )
    assert not misses, (
        "expected the source document among the top 3 chunks for every fixture question "
        "(with the mock backend, embed with fixtures.llama.KeywordEmbedding: LlamaIndex's "
        "MockEmbedding gives every text the same vector); missed:\n" + "\n".join(misses)
    )


def test_the_mock_rag_answers_from_the_retrieved_text(exercise):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=3)

    result = asked(exercise, engine, load_questions()[0]["question"])  # answer: @mlflow.trace

    assert "@mlflow.trace" in result["answer"], (
        "expected ask(...)['answer'] to be the engine's answer as text, quoting the tracing "
        f"document (the mock LLM is fixtures.llama.ExtractiveLLM); found {shown(result)}"
    )


@pytest.mark.parametrize("top_k", [1, 4])
def test_the_engine_retrieves_top_k_chunks(exercise, top_k):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=top_k)

    result = asked(exercise, engine, "How are variables written in a prompt registry template?")

    assert len(result["sources"]) == top_k, (
        f"expected {top_k} retrieved chunks with top_k={top_k} (pass it to the query engine "
        f"as similarity_top_k); found {len(result['sources'])}: {shown(result['sources'])}"
    )


def test_the_sources_list_every_retrieved_chunk_best_first_repeats_included(exercise):
    from llama_index.core import VectorStoreIndex

    from fixtures.llama import KeywordEmbedding

    question = "How are variables written in a prompt registry template?"
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=4)

    result = asked(exercise, engine, question)

    # The same retrieval, done here: the mock backend embeds with KeywordEmbedding.
    index = VectorStoreIndex(corpus_nodes(), embed_model=KeywordEmbedding())
    hits = index.as_retriever(similarity_top_k=4).retrieve(question)
    expected = [hit.node.metadata["source"] for hit in hits]
    assert len(set(expected)) < len(expected), f"this test needs a repeated source: {expected}"
    assert result["sources"] == expected, (
        f"expected the sources of the {len(expected)} retrieved chunks, best first, one per "
        f"chunk (a document that gave two chunks appears twice): {expected}; found "
        f"{shown(result['sources'])}"
    )


def test_each_query_is_a_trace_whose_retriever_span_names_the_sources(exercise):
    engine = exercise.build_query_engine(corpus_nodes(), llm_type="mock", top_k=3)

    result = asked(exercise, engine, "What does an alias of a registered model point to?")

    traces = search_traces(filter_string="span.type = 'RETRIEVER'")
    assert len(traces) == 1, (
        f"expected one trace with a RETRIEVER span for one question (turn on "
        f"mlflow.llama_index.autolog() in build_query_engine); found {len(traces)} such "
        f"traces, {len(search_traces())} traces in all"
    )
    sources = retriever_sources(traces[0])
    assert sources == result["sources"], (
        f"expected the RETRIEVER span's outputs to carry each chunk's 'source' metadata, "
        f"the same as ask(...)['sources'] = {shown(result['sources'])}; found {shown(sources)}"
    )


def test_an_unknown_llm_type_is_a_value_error_that_lists_the_valid_ones(exercise):
    try:
        got = exercise.make_llm("gpt-5-turbo-max")
    except ValueError as err:
        assert all(name in str(err) for name in ("mock", "ollama", "openai")), (
            f"expected the message to list mock, ollama and openai; found {shown(str(err))}"
        )
    else:
        pytest.fail(
            f"expected ValueError for llm_type 'gpt-5-turbo-max'; make_llm returned {shown(got)}",
            pytrace=False,
        )


def test_an_unknown_llm_type_has_no_embedding_model_either(exercise):
    try:
        got = exercise.make_embed_model("gpt-5-turbo-max")
    except ValueError:
        return
    pytest.fail(
        "expected ValueError for llm_type 'gpt-5-turbo-max' from make_embed_model too (no "
        f"silent fallback to another backend); it returned {shown(got)}",
        pytrace=False,
    )


def _through_server(step: str, call, *args, **kwargs):
    """``call(*args, **kwargs)``, with a connection problem reported as a failed expectation."""
    try:
        return call(*args, **kwargs)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as err:  # noqa: BLE001 - the learner's client could not reach the server
        raise AssertionError(
            f"expected {step} to reach the fake LLM server (OLLAMA_HOST, OPENAI_BASE_URL or "
            f"OPENAI_API_BASE point at it); it failed with {type(err).__name__}: "
            f"{shown(str(err))}"
        ) from err


def _engine_through(exercise, nodes, **kwargs):
    """build_query_engine(nodes, **kwargs): building the index embeds every node."""
    return _through_server("build_query_engine", exercise.build_query_engine, nodes, **kwargs)


def _answer_through(exercise, engine, question):
    """ask(), with a connection problem reported as a failed expectation."""
    return _through_server("the query", asked, exercise, engine, question)


def _seen(requests) -> list:
    return [(r.path, (r.body or {}).get("model")) for r in requests]


def test_the_ollama_backend_talks_to_the_server_in_ollama_host(exercise, fake_llm_env):
    fake_llm_env.script("Use the @mlflow.trace decorator.")
    engine = _engine_through(
        exercise, corpus_nodes(sources=BACKEND_SOURCES), llm_type="ollama", top_k=2
    )

    result = _answer_through(exercise, engine, "Which decorator adds manual tracing?")

    chats = [r for r in fake_llm_env.requests if r.path == "/api/chat"]
    embeds = [r for r in fake_llm_env.requests if r.path in ("/api/embed", "/api/embeddings")]
    assert chats and chats[-1].body.get("model") == "llama3.2", (
        f"expected a chat request to the Ollama API (/api/chat) for model 'llama3.2'; "
        f"requests seen: {_seen(fake_llm_env.requests)}"
    )
    assert embeds and {r.body.get("model") for r in embeds} == {"nomic-embed-text"}, (
        "expected the ollama backend to embed with Ollama too (OllamaEmbedding, model "
        f"'nomic-embed-text'); requests seen: {sorted(set(_seen(fake_llm_env.requests)))}"
    )
    assert result["answer"] == "Use the @mlflow.trace decorator.", (
        f"expected the answer of the Ollama model; found {shown(result['answer'])}"
    )
    assert "@mlflow.trace" in chats[-1].last_user_text, (
        "expected the retrieved chunks in the prompt sent to Ollama; the last user message "
        f"was {shown(chats[-1].last_user_text)}"
    )


@pytest.mark.parametrize("variable", ["OPENAI_BASE_URL", "OPENAI_API_BASE"])
def test_the_openai_backend_talks_to_the_server_in_either_variable(
    exercise, fake_llm_env, monkeypatch, variable
):
    for other in {"OPENAI_BASE_URL", "OPENAI_API_BASE"} - {variable}:
        monkeypatch.delenv(other)  # only one of the two names the server
    fake_llm_env.script("Aliases point at model versions.")
    engine = _engine_through(
        exercise, corpus_nodes(sources=BACKEND_SOURCES), llm_type="openai", top_k=2
    )

    result = _answer_through(exercise, engine, "What does an alias of a registered model point to?")

    chats = [r for r in fake_llm_env.requests if r.path.endswith("/chat/completions")]
    embeds = [r for r in fake_llm_env.requests if r.path.endswith("/embeddings")]
    assert chats and chats[-1].body.get("model") == "gpt-4o-mini", (
        f"expected a chat completions request for model 'gpt-4o-mini' to the server in "
        f"{variable}; requests seen: {_seen(fake_llm_env.requests)}"
    )
    assert embeds and {r.body.get("model") for r in embeds} == {"text-embedding-3-small"}, (
        "expected the openai backend to embed with OpenAI too (OpenAIEmbedding, model "
        f"'text-embedding-3-small'); requests seen: {sorted(set(_seen(fake_llm_env.requests)))}"
    )
    assert result["answer"] == "Aliases point at model versions.", (
        f"expected the answer of the OpenAI model; found {shown(result['answer'])}"
    )
    trace = last_trace()
    assert find_spans(trace, span_type="RETRIEVER"), (
        "expected the query to be traced with a RETRIEVER span; found:\n" + span_tree(trace)
    )


@pytest.mark.parametrize(
    ("llm_type", "chat_path", "model"),
    [("ollama", "/api/chat", "qwen2.5"), ("openai", "/chat/completions", "gpt-4o")],
)
def test_the_model_argument_names_the_chat_model(
    exercise, fake_llm_env, llm_type, chat_path, model
):
    engine = _engine_through(
        exercise, corpus_nodes(sources=BACKEND_SOURCES[:1]), llm_type=llm_type, top_k=1, model=model
    )

    _answer_through(exercise, engine, "Which decorator adds manual tracing?")

    models = [
        (r.body or {}).get("model") for r in fake_llm_env.requests if r.path.endswith(chat_path)
    ]
    assert models and set(models) == {model}, (
        f"expected build_query_engine(..., llm_type={llm_type!r}, model={model!r}) to chat "
        f"with the model {model!r} (the backend's default only when model is None); requests "
        f"seen: {_seen(fake_llm_env.requests)}"
    )
