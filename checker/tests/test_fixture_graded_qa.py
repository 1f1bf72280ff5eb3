"""``fixtures.graded_qa``: a fake LLM whose quality depends on the model and the prompt."""

import openai

from fixtures.graded_qa import (
    CONCISE_CUE,
    LARGE_MODEL,
    NO_IDEA,
    NOT_SURE,
    SMALL_MODEL,
    VAGUE,
    VERBOSE_PREFIX,
    graded_answer,
    graded_responder,
    known_questions,
)

KNOWN = known_questions()
EASY = next(q for q in KNOWN if q["small_knows"])
HARD = next(q for q in KNOWN if not q["small_knows"])


def test_it_knows_the_kit_questions_and_the_small_model_knows_half():
    assert len(KNOWN) >= 8
    assert sum(q["small_knows"] for q in KNOWN) == (len(KNOWN) + 1) // 2


def test_a_concise_prompt_gets_the_bare_answer_from_a_model_that_knows_it():
    prompt = f"Answer in {CONCISE_CUE}: {EASY['question']}"
    assert graded_answer(prompt, LARGE_MODEL) == EASY["answer"]
    assert graded_answer(prompt, SMALL_MODEL) == EASY["answer"]
    shouting = f"ANSWER IN {CONCISE_CUE.upper()}: {EASY['question']}"
    assert graded_answer(shouting, "any-other-model") == EASY["answer"]


def test_the_small_model_is_not_sure_of_the_other_half():
    prompt = f"Answer in {CONCISE_CUE}: {HARD['question']}"
    assert graded_answer(prompt, SMALL_MODEL) == NOT_SURE
    assert graded_answer(prompt, LARGE_MODEL) == HARD["answer"]


def test_an_explain_prompt_is_long_and_ends_with_the_answer():
    reply = graded_answer(f"Explain, then answer: {EASY['question']}", LARGE_MODEL)
    assert reply == f"{VERBOSE_PREFIX}{EASY['answer']}."
    assert len(reply.split()) > 15


def test_a_bare_question_gets_a_vague_reply_without_the_answer():
    for q in KNOWN:
        reply = graded_answer(q["question"], LARGE_MODEL)
        assert reply == VAGUE
        assert q["answer"].lower() not in reply.lower()
        assert q["answer"].lower() not in NOT_SURE.lower()
        assert q["answer"].lower() not in VERBOSE_PREFIX.lower()


def test_an_unknown_question_gets_no_idea():
    assert graded_answer("What is the capital of France?", LARGE_MODEL) == NO_IDEA


def test_the_fake_server_answers_with_it_through_a_real_client(fake_llm_env):
    fake_llm_env.responder = graded_responder
    client = openai.OpenAI()
    messages = [
        {"role": "system", "content": f"Reply in {CONCISE_CUE}."},
        {"role": "user", "content": HARD["question"]},
    ]

    small = client.chat.completions.create(model=SMALL_MODEL, messages=messages)
    large = client.chat.completions.create(model=LARGE_MODEL, messages=messages)

    assert small.choices[0].message.content == NOT_SURE
    assert large.choices[0].message.content == HARD["answer"]
    assert large.usage.completion_tokens == len(HARD["answer"].split())
