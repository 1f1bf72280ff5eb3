"""Checks for ex03_langchain_autolog: a sentiment chain on three backends, traced by autolog."""

import pytest

from fixtures.messages import shown
from fixtures.sentiment import generate_reviews, sentiment_responder
from fixtures.traces import ancestors_of, find_span, root_span, span_tree, token_usage, traces_of

REVIEWS = generate_reviews(3)
TEXTS = [r["text"] for r in REVIEWS]
TRUTH = [r["label"] for r in REVIEWS]


def _check_chat_model_traces(traces, texts, model_name):
    """Each trace: a CHAIN root with a CHAT_MODEL span under it that holds the rendered
    prompt (the review text) and token usage; each review in exactly one trace. Traces are
    matched to reviews by their prompt, not by order: two chain runs (chain.batch) can start
    in the same millisecond."""
    assert len(traces) == len(texts), (
        f"expected one trace per review ({len(texts)}); found {len(traces)}. Switch on "
        "mlflow.langchain.autolog(...) before the chain runs, whatever the backend."
    )
    chats = []
    for trace in traces:
        chat = find_span(trace, span_type="CHAT_MODEL")
        assert root_span(trace).span_type == "CHAIN" and ancestors_of(trace, chat), (
            f"expected the chat model span under the chain's CHAIN span; found spans:\n"
            f"{span_tree(trace)}"
        )
        chats.append(chat)
    for text in texts:
        holding = [chat for chat in chats if text in str(chat.inputs)]
        assert len(holding) == 1, (
            f"expected exactly one trace whose CHAT_MODEL span's inputs hold the rendered "
            f"prompt with the review {text!r}; found {len(holding)}. CHAT_MODEL inputs: "
            f"{[str(chat.inputs)[:200] for chat in chats]}"
        )
    for chat in chats:
        model = chat.get_attribute("mlflow.llm.model")
        assert model == model_name, (
            f"expected the CHAT_MODEL span to record the model {model_name!r}; found {shown(model)}"
        )
        usage = token_usage(chat)
        assert isinstance(usage, dict) and usage.get("input_tokens", 0) > 0, (
            f"expected the CHAT_MODEL span to carry the token usage the model reported; "
            f"found {shown(usage)}"
        )


def test_the_mock_backend_labels_every_review(exercise):
    labels = exercise.classify_reviews(TEXTS)

    assert labels == TRUTH, (
        f"expected the labels {TRUTH} for the reviews {TEXTS}, in order; got {shown(labels)}"
    )


def test_every_review_is_one_autologged_trace_with_the_prompt_and_token_usage(exercise):
    _, traces = traces_of(exercise.classify_reviews, TEXTS, "mock")

    _check_chat_model_traces(traces, TEXTS, "kata-sentiment")


def test_the_ollama_backend_is_traced_through_the_real_chat_ollama_client(exercise, fake_llm_env):
    fake_llm_env.responder = sentiment_responder

    labels, traces = traces_of(exercise.classify_reviews, TEXTS[:2], "ollama")

    assert labels == TRUTH[:2], f"expected the labels {TRUTH[:2]}; got {shown(labels)}"
    sent = [(r.path, r.body.get("model")) for r in fake_llm_env.chat_requests]
    assert sent == [("/api/chat", "llama3.2")] * 2, (
        "expected two Ollama chat requests (POST /api/chat) for the model llama3.2, sent to "
        f"OLLAMA_HOST; the server received {sent or 'nothing'}. Use ChatOllama and let it "
        "read OLLAMA_HOST."
    )
    _check_chat_model_traces(traces, TEXTS[:2], "llama3.2")


def test_the_openai_backend_is_traced_through_the_real_chat_openai_client(exercise, fake_llm_env):
    fake_llm_env.responder = sentiment_responder

    labels, traces = traces_of(exercise.classify_reviews, TEXTS[:2], "openai", model="gpt-4o")

    assert labels == TRUTH[:2], f"expected the labels {TRUTH[:2]}; got {shown(labels)}"
    sent = [(r.path, r.body.get("model")) for r in fake_llm_env.chat_requests]
    assert sent == [("/v1/chat/completions", "gpt-4o")] * 2, (
        "expected two OpenAI chat completions for the model gpt-4o (the model= argument), "
        f"sent to OPENAI_BASE_URL; the server received {sent or 'nothing'}"
    )
    _check_chat_model_traces(traces, TEXTS[:2], "gpt-4o")


def test_without_a_model_the_openai_backend_uses_gpt_4o_mini(exercise, fake_llm_env):
    fake_llm_env.responder = sentiment_responder

    exercise.classify_reviews(TEXTS[:1], "openai")

    sent = [(r.path, r.body.get("model")) for r in fake_llm_env.chat_requests]
    assert sent == [("/v1/chat/completions", "gpt-4o-mini")], (
        "expected one OpenAI chat completion for the default model gpt-4o-mini "
        f"(DEFAULT_MODELS['openai']); the server received {sent or 'nothing'}"
    )


def test_the_chain_returns_a_plain_label_string(exercise):
    from fixtures.fake_chat import SentimentChatModel

    reply = exercise.build_chain(SentimentChatModel()).invoke({"review": "I love this lamp."})

    assert reply == "positive", (
        "expected build_chain(model).invoke({'review': ...}) to return the reply as a plain "
        f"string ('positive'); got {shown(reply)}. End the chain with an output parser."
    )


def test_the_prompt_is_the_system_prompt_then_the_review(exercise):
    from fixtures.fake_chat import scripted_chat_model

    model = scripted_chat_model("positive")

    exercise.build_chain(model).invoke({"review": "I love this lamp."})

    sent = [(m.type, m.text) for m in model.calls[0]] if model.calls else []
    expected = [("system", exercise.SYSTEM_PROMPT), ("human", "Review: I love this lamp.")]
    assert sent == expected, (
        f"expected the model to receive the system message SYSTEM_PROMPT, then the human "
        f"message HUMAN_PROMPT filled in, {expected}; it received {shown(sent)}"
    )


def test_an_unknown_llm_type_is_refused(exercise):
    with pytest.raises(ValueError, match="mock"):
        exercise.make_llm("claude")
