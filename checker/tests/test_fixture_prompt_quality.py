"""The fake sentiment model whose accuracy depends on the prompt's wording."""

import subprocess
import sys
from pathlib import Path

import openai
import pytest

from fixtures.prompt_quality import (
    answer,
    expected_accuracy,
    labels_named,
    prompt_quality_responder,
    split_prompt,
)
from fixtures.sentiment import generate_reviews

ALL_THREE = "Label the review as positive, negative or neutral.\nReview: {{text}}"
TWO = "Is this review positive or negative?\nReview: {{text}}"
NONE = "What do you think of this review?\nReview: {{text}}"
REVIEWS = generate_reviews(30)
ROOT = Path(__file__).resolve().parents[2]


def test_importing_it_imports_neither_langchain_nor_mlflow():
    code = (
        "import sys, fixtures.prompt_quality; "
        "print(sorted({'langchain_core', 'mlflow'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_labels_are_named_as_whole_words_in_a_fixed_order():
    assert labels_named("Neutral, NEGATIVE or positive?") == ["positive", "negative", "neutral"]
    assert labels_named("positively negativity") == []


@pytest.mark.parametrize(("template", "accuracy"), [(ALL_THREE, 1.0), (TWO, 2 / 3), (NONE, 1 / 3)])
def test_the_accuracy_on_a_balanced_set_follows_the_labels_the_prompt_names(template, accuracy):
    assert expected_accuracy(template, REVIEWS) == pytest.approx(accuracy)


def test_a_label_the_prompt_does_not_name_falls_back_to_the_first_named_one():
    neutral = "The kettle arrived on Tuesday in a brown box."
    assert answer(TWO.replace("{{text}}", neutral)) == "positive"
    assert answer("Negative or neutral?\nReview: I love it, excellent.") == "negative"
    assert answer(NONE.replace("{{text}}", "Terrible kettle, the worst.")) == "positive"


def test_the_review_may_come_before_the_instructions():
    prompt = "Review: The lamp arrived on Tuesday.\nAnswer positive, negative or neutral."
    assert split_prompt(prompt) == (
        "Review: The lamp arrived on Tuesday.",
        "Answer positive, negative or neutral.",
    )
    assert answer(prompt) == "neutral"


def test_a_chat_template_is_read_as_one_text():
    chat = [
        {"role": "system", "content": "You answer positive, negative or neutral."},
        {"role": "user", "content": "Review: {{text}}"},
    ]
    assert expected_accuracy(chat, REVIEWS) == 1.0


def test_the_fake_server_answers_by_the_rule_through_the_real_client(fake_llm_env):
    fake_llm_env.responder = prompt_quality_responder
    neutral = "The tent does what the description says."
    client = openai.OpenAI()

    def ask(messages):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        return reply.choices[0].message.content

    system = {"role": "system", "content": "Answer positive, negative or neutral."}
    assert ask([system, {"role": "user", "content": f"Review: {neutral}"}]) == "neutral"
    assert ask([{"role": "user", "content": TWO.replace("{{text}}", neutral)}]) == "positive"


def test_the_langchain_model_answers_by_the_rule_and_reports_usage():
    from langchain_core.messages import HumanMessage, SystemMessage

    from fixtures.prompt_quality import PromptQualityChatModel

    model = PromptQualityChatModel()
    neutral = "Review: It is a lamp in the usual size and colour."
    named = [SystemMessage("Answer positive, negative or neutral."), HumanMessage(neutral)]

    assert model.invoke(named).content == "neutral"
    assert model.invoke([HumanMessage(TWO.replace("{{text}}", neutral))]).content == "positive"
    assert model.calls == 2
    assert model.invoke(named).usage_metadata["output_tokens"] == 1
