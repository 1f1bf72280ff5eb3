"""The deterministic LlamaIndex embedding and LLM make retrieval meaningful on the corpus."""

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter

from fixtures.data import load_corpus, load_questions
from fixtures.llama import ExtractiveLLM, KeywordEmbedding, extract_answer
from fixtures.llm_server import embed_text


@pytest.fixture
def query_engine():
    Settings.embed_model = KeywordEmbedding()
    Settings.llm = ExtractiveLLM()
    documents = [
        Document(text=text, metadata={"source": name}) for name, text in load_corpus().items()
    ]
    splitter = SentenceSplitter(chunk_size=256, chunk_overlap=20)
    index = VectorStoreIndex.from_documents(documents, transformations=[splitter])
    return index.as_query_engine(similarity_top_k=3)


def test_the_embedding_is_the_fake_servers_with_more_dimensions():
    assert KeywordEmbedding().get_text_embedding("spark udf") == pytest.approx(
        embed_text("spark udf", 256)
    )


def test_every_fixture_question_retrieves_its_source_document_in_the_top_3(query_engine):
    missed = []
    for question in load_questions():
        sources = [
            n.metadata["source"] for n in query_engine.query(question["question"]).source_nodes
        ]
        if question["source"] not in sources:
            missed.append((question["question"], question["source"], sources))
    assert not missed


def test_most_answers_quote_the_expected_answer(query_engine):
    questions = load_questions()
    right = [
        q
        for q in questions
        if q["answer"].lower() in str(query_engine.query(q["question"])).lower()
    ]
    assert len(right) >= len(questions) * 2 // 3


def test_the_llm_answers_with_the_best_matching_sentence_of_the_context():
    prompt = (
        "Context information is below.\n---------------------\n"
        "Spark is lazy. Aliases replaced stages\nin the registry.\n"
        "---------------------\nGiven the context information and not prior knowledge, "
        "answer the query.\nQuery: What replaced stages in the registry?\nAnswer: "
    )
    assert extract_answer(prompt) == "Aliases replaced stages in the registry."


def test_streaming_and_async_give_the_same_as_the_plain_calls():
    import asyncio

    llm, embedding = ExtractiveLLM(), KeywordEmbedding()
    prompt = "Context information is below.\n---------------------\nSpark is lazy.\n"
    prompt += "---------------------\nQuery: Is Spark lazy?\nAnswer: "

    streamed = "".join(r.delta or "" for r in llm.stream_complete(prompt))

    assert streamed == llm.complete(prompt).text == "Spark is lazy."
    assert asyncio.run(embedding.aget_text_embedding("udf")) == embedding.get_text_embedding("udf")
    assert asyncio.run(embedding.aget_query_embedding("udf")) == embedding.get_query_embedding(
        "udf"
    )
