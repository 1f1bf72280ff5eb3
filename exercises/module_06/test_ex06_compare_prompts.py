"""Checks for ex06_compare_prompts: three prompt versions, one dataset, a stated rule, an alias.

The LLM is the kit's graded fake model (fixtures/graded_qa.py), served on
127.0.0.1: a bare question gets a vague reply, "explain" gets a long one that
ends with the answer, "one short phrase" gets the bare answer.
"""

import mlflow
import pytest

from fixtures.graded_qa import SMALL_MODEL, graded_answer, graded_responder, known_questions
from fixtures.messages import shown
from fixtures.runs import all_runs

PROMPT = "qa-prompt"
BARE = "{{question}}"
VERBOSE = "Explain your reasoning, then answer this question: {{question}}"
CONCISE = "Answer in one short phrase: {{question}}"
QUESTIONS = known_questions()[:4]
DATA = [
    {"inputs": {"question": q["question"]}, "expectations": {"expected_response": q["answer"]}}
    for q in QUESTIONS
]


@pytest.fixture(autouse=True)
def _graded_model(fake_llm_env):
    fake_llm_env.responder = graded_responder
    return fake_llm_env


def _register(*templates):
    """Register the templates as versions 1, 2, 3... of PROMPT."""
    return [int(mlflow.genai.register_prompt(name=PROMPT, template=t).version) for t in templates]


def _expected(template):
    """What the graded model's answers to QUESTIONS score with this template."""
    answers = [
        graded_answer(template.replace("{{question}}", q["question"]), "gpt-4o-mini")
        for q in QUESTIONS
    ]
    correct = sum(q["answer"].lower() in a.lower() for q, a in zip(QUESTIONS, answers, strict=True))
    return {
        "correct": correct / len(QUESTIONS),
        "answer_length": sum(len(a.split()) for a in answers) / len(QUESTIONS),
    }


# --- the app --------------------------------------------------------------------------------


def test_the_app_sends_the_filled_in_prompt_to_the_model(exercise, _graded_model):
    (version,) = _register(CONCISE)
    question = QUESTIONS[0]["question"]

    answer = exercise.make_predict_fn(f"prompts:/{PROMPT}/{version}")(question)

    sent = _graded_model.chat_requests
    assert sent, "expected the app to call the chat model (the fake server got no request)"
    messages = sent[-1].body.get("messages")
    expected = CONCISE.replace("{{question}}", question)
    assert messages == [{"role": "user", "content": expected}], (
        f"expected one user message holding the filled-in prompt {expected!r}; the model got "
        f"{messages}"
    )
    assert answer == QUESTIONS[0]["answer"], (
        f"expected the app to return the model's reply {QUESTIONS[0]['answer']!r}; got "
        f"{shown(answer)}"
    )


def test_the_app_asks_the_model_it_was_given(exercise, _graded_model):
    (version,) = _register(CONCISE)

    exercise.make_predict_fn(f"prompts:/{PROMPT}/{version}", SMALL_MODEL)(QUESTIONS[0]["question"])

    sent = [r.body.get("model") for r in _graded_model.chat_requests]
    assert sent == [SMALL_MODEL], (
        f"expected one request to the model {SMALL_MODEL!r} (make_predict_fn's model "
        f"argument); the requests asked for {sent}"
    )


# --- the scorers ------------------------------------------------------------------------------


def _value(result):
    """A scorer's result: a plain value, or the value of the Feedback it returned."""
    return getattr(result, "value", result)


def test_correct_finds_the_expected_response_whatever_its_case(exercise):
    expectations = {"expected_response": "Aliases"}

    found = [
        _value(exercise.correct(outputs=text, expectations=expectations))
        for text in ("Use ALIASES now.", "use aliases", "Use stages.")
    ]

    assert found == [True, True, False], (
        "expected correct to be True for 'Use ALIASES now.' and 'use aliases' (the expected "
        "response 'Aliases', ignoring case) and False for 'Use stages.'; got "
        f"{shown(found)}"
    )


def test_answer_length_counts_words_separated_by_any_whitespace(exercise):
    found = _value(exercise.answer_length(outputs="Point  the alias\nat the\tversion."))

    assert found == 6, (
        "expected answer_length to count 6 words in 'Point  the alias\\nat the\\tversion.' "
        f"(split on any run of whitespace); got {shown(found)}"
    )


# --- the rule ---------------------------------------------------------------------------------


def test_the_most_correct_version_wins_even_when_it_is_longer(exercise):
    scores = {
        1: {"correct": 0.5, "answer_length": 2.0},
        2: {"correct": 1.0, "answer_length": 30.0},
        3: {"correct": 0.75, "answer_length": 1.0},
    }
    winner = exercise.pick_best(scores)
    assert winner == 2, (
        f"expected version 2 (the highest correct) to win {scores}; got {shown(winner)}"
    )


def test_among_equally_correct_versions_the_shortest_answers_win(exercise):
    scores = {
        1: {"correct": 1.0, "answer_length": 25.0},
        2: {"correct": 1.0, "answer_length": 3.0},
        3: {"correct": 1.0, "answer_length": 9.0},
    }
    winner = exercise.pick_best(scores)
    assert winner == 2, (
        "expected version 2 (as correct as the others, shortest answers) to win "
        f"{scores}; got {shown(winner)}"
    )


def test_a_full_tie_goes_to_the_lowest_version_number(exercise):
    scores = {
        3: {"correct": 0.5, "answer_length": 4.0},
        2: {"correct": 0.5, "answer_length": 4.0},
        4: {"correct": 0.25, "answer_length": 1.0},
    }
    winner = exercise.pick_best(scores)
    assert winner == 2, (
        f"expected version 2 (tied with 3, lower number) to win {scores}; got {shown(winner)}"
    )


# --- evaluating the versions and promoting the winner -----------------------------------------


def test_each_version_gets_its_own_tagged_evaluation_run_on_the_same_data(exercise):
    versions = _register(BARE, VERBOSE, CONCISE)

    scores = exercise.evaluate_prompt_versions(PROMPT, versions, DATA)

    for version, template in zip(versions, (BARE, VERBOSE, CONCISE), strict=True):
        expected = _expected(template)
        found = scores.get(version, {}) if isinstance(scores, dict) else scores
        assert found == pytest.approx(expected), (
            f"expected the scores of version {version} ({template!r}) to be {expected}; got "
            f"{shown(found)}"
        )
    tagged = {r.data.tags.get("prompt_version"): r for r in all_runs()}
    assert set(tagged) >= {str(v) for v in versions}, (
        "expected one evaluation run per version, tagged prompt_version=<version>; found runs "
        f"tagged {sorted(str(t) for t in tagged)}"
    )
    for version in versions:
        metrics = tagged[str(version)].data.metrics
        assert metrics.get("correct/mean") == pytest.approx(scores[version]["correct"]), (
            f"expected the run of version {version} to hold correct/mean "
            f"{scores[version]['correct']}; found {metrics}"
        )


def test_the_winner_gets_the_production_alias_and_it_need_not_be_the_latest(exercise):
    versions = _register(CONCISE, VERBOSE)

    winner = exercise.promote_best(PROMPT, versions, DATA)

    assert winner == versions[0], (
        f"expected version {versions[0]} (concise: as correct as the verbose version "
        f"{versions[1]}, and shorter) to win; got {shown(winner)}"
    )
    promoted = mlflow.genai.load_prompt(f"prompts:/{PROMPT}@production", cache_ttl_seconds=0)
    assert int(promoted.version) == versions[0], (
        f"expected the alias 'production' of {PROMPT!r} to point at version {versions[0]}; it "
        f"points at {promoted.version}"
    )
