"""Checks for ex07_rag_agent: retrieval over the corpus, an answer prompt from the prompt
registry, and one trace per question with retrieval and model steps, linked to the prompt."""

import mlflow
import pytest

from fixtures.data import load_corpus, load_questions
from fixtures.messages import shown
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
TRACING = QUESTIONS["mlflow_tracing.md"]


@pytest.fixture
def prompt_uri():
    return mlflow.genai.register_prompt(name=PROMPT, template=TEMPLATE).uri


def _sources(documents):
    """The metadata["source"] of each returned document (None where there is none)."""
    if not isinstance(documents, list | tuple):
        return shown(documents)
    found = []
    for d in documents:
        metadata = getattr(d, "metadata", None)
        found.append(metadata.get("source") if isinstance(metadata, dict) else None)
    return found


# --- retrieval --------------------------------------------------------------------------


def test_retrieve_puts_the_document_that_answers_the_question_first(exercise):
    for source in ("mlflow_tracing.md", "embeddings.md", "mlflow_model_registry_aliases.md"):
        question = QUESTIONS[source]["question"]

        found = _sources(exercise.retrieve(question))

        assert found[:1] == [source], (
            f"expected retrieve({question!r}) to put {source} first (it scores highest with "
            f"_score); found {found}"
        )


def test_retrieve_returns_the_documents_best_first(exercise):
    question = QUESTIONS["mlflow_prompt_registry.md"]["question"]
    corpus = load_corpus()

    found = _sources(exercise.retrieve(question, k=5))

    scores = [exercise._score(question, corpus.get(s) or "") for s in found or []]
    assert isinstance(found, list) and len(found) > 1 and scores == sorted(scores, reverse=True), (
        f"expected retrieve({question!r}, k=5) to return several documents, highest _score "
        f"first; found {found} with scores {scores}"
    )


def test_retrieve_returns_at_most_k_documents_with_their_text_and_source(exercise):
    documents = exercise.retrieve(EMBEDDINGS["question"], k=2)

    corpus = load_corpus()
    sources = _sources(documents)
    assert isinstance(sources, list) and len(sources) == 2, (
        f"expected k=2 documents; found {shown(documents)}"
    )
    for document, source in zip(documents, sources, strict=True):
        text = getattr(document, "page_content", None)
        assert source in corpus and text == corpus[source], (
            "expected each document's page_content to be the text of the file named in "
            f"metadata['source']; found source {shown(source)} with text {shown(text, 80)}"
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
        f"expected the model's reply as text; got {shown(reply)}"
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


def test_the_filled_prompt_is_the_user_message_to_the_model_named_model(
    exercise, fake_llm_env, prompt_uri
):
    fake_llm_env.script("Cosine similarity.")

    exercise.answer_question(EMBEDDINGS["question"], prompt_uri)

    assert fake_llm_env.chat_requests, "expected one call to the chat model; found none"
    body = fake_llm_env.chat_requests[-1].body or {}
    roles = [
        m.get("role")
        for m in body.get("messages", [])
        if "Answer the question using only the context below" in str(m.get("content"))
    ]
    assert (body.get("model"), roles) == (exercise.MODEL, ["user"]), (
        f"expected the filled prompt as the user message of a request to {exercise.MODEL!r}; "
        f"found the model {shown(body.get('model'))} and the prompt in messages with the roles "
        f"{roles}"
    )


def test_the_context_names_each_documents_source_before_its_text(
    exercise, fake_llm_env, prompt_uri
):
    fake_llm_env.script("Cosine similarity.")

    exercise.answer_question(EMBEDDINGS["question"], prompt_uri)

    sent = "\n".join(str(m.get("content")) for m in fake_llm_env.chat_requests[-1].body["messages"])
    source, text = "embeddings.md", load_corpus()["embeddings.md"]
    where = sent.find(text[:200])
    assert where > 0 and source in sent[:where], (
        f"expected the context to give each document's text after its source name "
        f"({source!r} before its text); the model got:\n{sent[:600]}"
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


def test_every_answer_loads_the_prompt_inside_its_own_trace(exercise, fake_llm_env, prompt_uri):
    fake_llm_env.script("Cosine.", "@mlflow.trace.")

    _, first = trace_of(exercise.answer_question, EMBEDDINGS["question"], prompt_uri)
    _, second = trace_of(exercise.answer_question, TRACING["question"], prompt_uri)

    found = [linked_prompts(first), linked_prompts(second)]
    assert found == [[f"{PROMPT}/1"], [f"{PROMPT}/1"]], (
        f"expected each question's trace to be linked to {PROMPT}/1; the first trace is linked "
        f"to {found[0] or 'no prompt'}, the second to {found[1] or 'no prompt'}. Load the "
        "prompt in every call, inside the trace (not once, kept in a variable)."
    )
