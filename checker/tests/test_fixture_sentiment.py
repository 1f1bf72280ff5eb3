"""Reviews with known sentiment, and the fake models that label them."""

import openai
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from fixtures.fake_chat import SentimentChatModel
from fixtures.sentiment import LABELS, generate_reviews, label_of, review_in, sentiment_responder

PROMPT = "Classify the sentiment of this review.\nReview: {text}\nAnswer with one word."


def test_reviews_are_reproducible_and_balanced():
    reviews = generate_reviews(30, seed=7)
    assert reviews == generate_reviews(30, seed=7)
    assert [r["label"] for r in reviews[:3]] == list(LABELS)
    assert {r["label"] for r in reviews} == set(LABELS)


def test_every_generated_review_has_the_label_the_rule_gives():
    assert all(label_of(r["text"]) == r["label"] for r in generate_reviews(300))


def test_the_review_is_found_in_a_prompt_around_it():
    prompt = PROMPT.format(text="Terrible kettle, the worst purchase.")
    assert review_in(prompt) == "Review: Terrible kettle, the worst purchase."


def test_the_langchain_model_labels_each_review_and_reports_usage():
    model = SentimentChatModel()
    chain = ChatPromptTemplate.from_template(PROMPT) | model | StrOutputParser()
    reviews = generate_reviews(6)

    labels = [chain.invoke({"text": r["text"]}) for r in reviews]

    assert labels == [r["label"] for r in reviews]
    assert model.calls == 6
    assert model.invoke("The lamp is great.").usage_metadata["output_tokens"] == 1


def test_the_fake_server_answers_with_labels_through_the_real_client(fake_llm_env):
    fake_llm_env.responder = sentiment_responder
    text = PROMPT.format(text="I love this tent; an amazing buy.")

    reply = openai.OpenAI().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )

    assert reply.choices[0].message.content == "positive"
