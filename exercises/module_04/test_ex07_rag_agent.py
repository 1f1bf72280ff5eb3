"""Checks for ex07_rag_agent: retrieval over the corpus, an answer prompt from the prompt
registry, and one trace per question with retrieval and model steps, linked to the prompt."""

import mlflow
import pytest

from fixtures.data import load_corpus, load_questions
from fixtures.prompts import linked_prompts
from fixtures.traces import assert_child_of, find_span, root_span, span_tree, trace_of

PROMPT = "rag-answer"
TEMPLATE = (
    "Answer the question using only the context below, and name your source.\n\n"
    "Context:\n{{context}}\n\nQuestion: {{question}}"
)
TEMPLATE_V2 = "Be brief. Context:\n{{context}}\nQuestion: {{question}}"
QUESTIONS = {q["source"]: q for q in load_questions()}
EMBEDDINGS = QUESTIONS["embeddings.md"]


@pytest.fixture
def prompt_uri():
    return mlflow.genai.register_prompt(name=PROMPT, template=TEMPLATE).uri


def _sources(documents):
    return [(getattr(d, "metadata", None) or {}).get("source") for d in documents or []]


# --- retrieval --------------------------------------------------------------------------


def test_retrieve_puts_the_document_that_answers_the_question_first(exercise):
    for source in ("mlflow_tracing.md", "embeddings.md", "mlflow_model_registry_aliases.md"):
        question = QUESTIONS[source]["question"]

        found = _sources(exercise.retrieve(question))

        assert found[:1] == [source], (
            f"expected retrieve({question!r}) to put {source} first (it scores highest with "
            f"_score); found {found}"
        )


def test_retrieve_returns_at_most_k_documents_with_their_text_and_source(exercise):
    documents = exercise.retrieve(EMBEDDINGS["question"], k=2)

    corpus = load_corpus()
    assert len(documents or []) == 2, f"expected k=2 documents; found {len(documents or [])}"
    for document in documents:
        source = (document.metadata or {}).get("source")
        assert source in corpus and document.page_content == corpus[source], (
            "expected each document's page_content to be the text of the file named in "
            f"metadata['source']; found source {source!r}"
        )


def test_retrieve_leaves_out_documents_that_do_not_match_at_all(exercise):
    documents = exercise.retrieve("Bonjour, ça va?")

    assert _sources(documents) == [], (
        f"expected no documents for a question that shares no word with the corpus; found "
        f"{_sources(documents)}"
    )


def test_each_retrieval_is_a_retriever_span_with_the_documents(exercise):
    _, trace = trace_of(exercise.retrieve, EMBEDDINGS["question"])

    span = find_span(trace, span_type="RETRIEVER")
    assert "embeddings.md" in str(span.outputs), (
        "expected the RETRIEVER span's output to hold the documents (with their source); "
        f"found {str(span.outputs)[:300]!r}"
    )


# --- the agent ----------------------------------------------------------------------------


def test_the_answer_is_the_models_reply(exercise, fake_llm_env, prompt_uri):
    fake_llm_env.script("Cosine similarity (embeddings.md).")

    reply = exercise.answer_question(EMBEDDINGS["question"], prompt_uri)

    assert reply == "Cosine similarity (embeddings.md).", (
        f"expected the model's reply as text; got {reply!r}"
    )


def test_the_model_gets_the_registered_prompt_filled_with_context_and_question(
    exercise, fake_llm_env, prompt_uri
):
    fake_llm_env.script("Cosine similarity.")

    exercise.answer_question(EMBEDDINGS["question"], prompt_uri)

    assert fake_llm_env.chat_requests, "expected one call to the chat model; found none"
    sent = "\n".join(str(m.get("content")) for m in fake_llm_env.chat_requests[-1].body["messages"])
    expected = {
        "the prompt's instructions": "Answer the question using only the context below",
        "the question": EMBEDDINGS["question"],
        "the retrieved document": EMBEDDINGS["answer"],
    }
    missing = [what for what, text in expected.items() if text not in sent]
    assert not missing, (
        f"expected the model to get the registered prompt filled in; missing {missing} in "
        f"what it got:\n{sent[:600]}"
    )


def test_one_trace_shows_retrieval_and_the_model_call_under_the_agent(
    exercise, fake_llm_env, prompt_uri
):
    fake_llm_env.script("Cosine similarity.")

    _, trace = trace_of(exercise.answer_question, EMBEDDINGS["question"], prompt_uri)

    root = root_span(trace)
    assert root is not None and root.span_type == "AGENT", (
        f"expected the trace's root span to be the agent (AGENT); found:\n{span_tree(trace)}"
    )
    assert_child_of(trace, find_span(trace, span_type="RETRIEVER"), parent_type="AGENT")
    assert_child_of(trace, find_span(trace, span_type="CHAT_MODEL"), parent_type="AGENT")


def test_the_trace_is_linked_to_the_prompt_version_it_used(exercise, fake_llm_env, prompt_uri):
    second = mlflow.genai.register_prompt(name=PROMPT, template=TEMPLATE_V2)
    fake_llm_env.script("Cosine.")

    _, trace = trace_of(exercise.answer_question, EMBEDDINGS["question"], second.uri)

    assert linked_prompts(trace) == [f"{PROMPT}/2"], (
        f"expected the trace to be linked to {PROMPT}/2, the version it was given; found "
        f"{linked_prompts(trace) or 'no prompt'}. Load the prompt inside the traced function."
    )
    sent = str(fake_llm_env.chat_requests[-1].body["messages"])
    assert "Be brief." in sent, f"expected the model to get version 2's text; it got {sent[:300]}"
