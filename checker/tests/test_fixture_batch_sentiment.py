"""The fake model that labels a numbered batch of reviews in one call."""

import pickle

import openai

from fixtures.batch_sentiment import (
    BatchSentimentChatModel,
    batch_sentiment_responder,
    label_numbered,
    numbered_lines,
)
from fixtures.sentiment import generate_reviews

INSTRUCTIONS = "Label each review: one line '<number>. <label>'."


def _batch(reviews):
    return "\n".join(f"{i}. {r['text']}" for i, r in enumerate(reviews, 1))


def test_numbered_lines_are_found_whatever_the_separator():
    text = "Label these.\n1. The lamp is great.\n 2) It is broken.\n3: It is a tent.\nThanks"

    assert numbered_lines(text) == [
        (1, "The lamp is great."),
        (2, "It is broken."),
        (3, "It is a tent."),
    ]


def test_a_batch_gets_one_numbered_label_per_review_and_instructions_are_ignored():
    reviews = generate_reviews(9)

    reply = label_numbered(f"{INSTRUCTIONS}\n{_batch(reviews)}")

    assert reply.splitlines() == [f"{i}. {r['label']}" for i, r in enumerate(reviews, 1)]


def test_a_prompt_without_numbered_lines_gets_a_single_label():
    assert label_numbered("Classify this review.\nTerrible kettle, the worst.") == "negative"


def test_the_fake_server_labels_a_batch_through_the_real_client(fake_llm_env):
    fake_llm_env.responder = batch_sentiment_responder
    reviews = generate_reviews(4, seed=3)

    reply = openai.OpenAI().chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "1. this numbered system line is not a review"},
            {"role": "user", "content": _batch(reviews)},
        ],
    )

    expected = "\n".join(f"{i}. {r['label']}" for i, r in enumerate(reviews, 1))
    assert reply.choices[0].message.content == expected
    assert len(fake_llm_env.chat_requests) == 1


def test_the_langchain_model_labels_batches_counts_calls_and_pickles():
    model = BatchSentimentChatModel()
    reviews = generate_reviews(5, seed=8)

    reply = model.invoke([("system", INSTRUCTIONS), ("human", _batch(reviews))])

    assert reply.content.splitlines() == [f"{i}. {r['label']}" for i, r in enumerate(reviews, 1)]
    assert model.calls == 1
    assert reply.usage_metadata["output_tokens"] == 10
    assert pickle.loads(pickle.dumps(BatchSentimentChatModel)) is BatchSentimentChatModel
