"""Checks for ex04_prompt_optimization: optimize_prompts, a new version, a guarded promotion."""

import json

import mlflow
import pytest

from fixtures.messages import shown
from fixtures.prompt_quality import prompt_quality_responder
from fixtures.prompts import prompt_aliases, prompt_versions
from fixtures.runs import all_runs
from fixtures.sentiment import generate_reviews

PROMPT = "review-sentiment"
# The fake chat model only answers with labels that the prompt names
# (fixtures/prompt_quality.py): BASELINE names none, so it scores 1/3 on balanced
# reviews; BETTER names all three and scores 1.0; NO_BETTER names none either.
BASELINE = "What do you think of this review?\n{{review}}"
BETTER = (
    "Label the review as positive, negative or neutral. Answer with the label only.\n"
    "Review: {{review}}"
)
NO_BETTER = "Read this review carefully, then answer.\nReview: {{review}}"


def _is_reflection(request):
    return ((request.body or {}).get("response_format") or {}).get("type") == "json_object"


def reflection_proposes(template):
    """A fake server responder: the reflection model proposes ``template`` for the
    prompt; every other call is the sentiment model answering the prompt it got."""

    def respond(request):
        if _is_reflection(request):
            return json.dumps({PROMPT: template})
        return prompt_quality_responder(request)

    return respond


def _as_float(text):
    """A tag's value as a number, or None when it is not one."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


@pytest.fixture
def train_data():
    return [
        {"inputs": {"review": r["text"]}, "expectations": {"expected_response": r["label"]}}
        for r in generate_reviews(3, seed=4)  # one of each label: scores of 1/3 or 1.0
    ]


@pytest.fixture
def baseline_in_production():
    version = mlflow.genai.register_prompt(name=PROMPT, template=BASELINE)
    mlflow.genai.set_prompt_alias(PROMPT, "production", version.version)
    return version


def test_exact_match_ignores_case_and_surrounding_whitespace(exercise):
    same = exercise.exact_match(
        outputs=" Positive\n", expectations={"expected_response": "positive"}
    )
    other = exercise.exact_match(outputs="negative", expectations={"expected_response": "positive"})

    assert same in (True, 1, 1.0) and other in (False, 0, 0.0), (
        "expected exact_match to be True for ' Positive\\n' against 'positive' and False for "
        f"'negative' against 'positive'; got {shown(same)} and {shown(other)}"
    )


def test_classify_uses_the_production_version_of_the_prompt(exercise, fake_llm_env):
    fake_llm_env.responder = prompt_quality_responder
    first = mlflow.genai.register_prompt(name=PROMPT, template=BETTER)
    mlflow.genai.set_prompt_alias(PROMPT, "production", first.version)
    mlflow.genai.register_prompt(name=PROMPT, template=BASELINE)  # newer, not in production
    review = "Terrible tent, the worst purchase this year."

    label = exercise.classify(review, PROMPT)

    sent = fake_llm_env.chat_requests[-1].last_user_text
    assert sent == BETTER.replace("{{review}}", review), (
        f"expected classify to send the production version (1) filled with the review; "
        f"the model received {sent!r}"
    )
    assert label == "negative", f"expected the label 'negative'; got {shown(label)}"

    mlflow.genai.set_prompt_alias(PROMPT, "production", 2)
    exercise.classify(review, PROMPT)
    sent = fake_llm_env.chat_requests[-1].last_user_text
    assert sent == BASELINE.replace("{{review}}", review), (
        "expected classify to follow the production alias at once when it moves to version 2; "
        f"the model received {sent!r}. Load the prompt by its @production alias on every call."
    )


def test_classify_asks_llm_model_and_returns_its_reply_stripped_and_lower_cased(
    exercise, fake_llm_env, baseline_in_production
):
    fake_llm_env.responder = lambda request: "  NEGATIVE \n"

    label = exercise.classify("Terrible tent.", PROMPT)

    models = [r.body.get("model") for r in fake_llm_env.chat_requests]
    assert models == [exercise.LLM_MODEL], (
        f"expected one call to LLM_MODEL ({exercise.LLM_MODEL}); found calls to {shown(models)}"
    )
    assert label == "negative", (
        f"expected the reply '  NEGATIVE \\n' stripped and lower-cased, 'negative'; "
        f"got {shown(label)}"
    )


def test_an_improved_prompt_becomes_a_new_version_and_takes_production(
    exercise, fake_llm_env, train_data, baseline_in_production
):
    fake_llm_env.responder = reflection_proposes(BETTER)

    outcome = exercise.optimize_prompt(PROMPT, train_data)

    versions = prompt_versions(PROMPT)
    assert [v.template for v in versions] == [BASELINE, BETTER], (
        f"expected optimize_prompts to register the improved template as version 2; found "
        f"versions {[(v.version, v.template) for v in versions]}"
    )
    assert (outcome.initial_score, outcome.final_score) == pytest.approx((1 / 3, 1.0)), (
        f"expected the scores 1/3 before and 1.0 after (exact_match on the training data); "
        f"got {shown(outcome)}"
    )
    tag = versions[1].tags.get(exercise.SCORE_TAG)
    assert _as_float(tag) == pytest.approx(1.0), (
        f"expected version 2 to carry the tag {exercise.SCORE_TAG} = its final score 1.0; "
        f"found tags {versions[1].tags}"
    )
    aliases = prompt_aliases(PROMPT)
    assert aliases.get("production") == 2 and outcome.promoted, (
        f"expected production to move to version 2, which scores better, and promoted=True; "
        f"found aliases {aliases}, outcome {shown(outcome)}"
    )
    assert outcome.new_version == 2, f"expected new_version=2; got {shown(outcome)}"


def test_a_prompt_that_is_no_better_is_registered_but_production_stays(
    exercise, fake_llm_env, train_data, baseline_in_production
):
    fake_llm_env.responder = reflection_proposes(NO_BETTER)

    outcome = exercise.optimize_prompt(PROMPT, train_data)

    versions = prompt_versions(PROMPT)
    assert len(versions) == 2 and versions[1].template == NO_BETTER, (
        f"expected the proposed template as version 2 even though it is no better; found "
        f"versions {[(v.version, v.template) for v in versions]}"
    )
    tag = versions[1].tags.get(exercise.SCORE_TAG)
    assert _as_float(tag) == pytest.approx(1 / 3), (
        f"expected version 2 to carry the tag {exercise.SCORE_TAG} = its final score 1/3; "
        f"found tags {versions[1].tags}"
    )
    aliases = prompt_aliases(PROMPT)
    assert aliases.get("production") == 1 and not outcome.promoted, (
        f"expected production to stay on version 1 (version 2 scores the same, 1/3: not an "
        f"improvement) and promoted=False; found aliases {aliases}, outcome {shown(outcome)}"
    )


def test_the_optimization_asks_the_given_reflection_model_and_is_tracked_in_a_run(
    exercise, fake_llm_env, train_data, baseline_in_production
):
    fake_llm_env.responder = reflection_proposes(BETTER)

    exercise.optimize_prompt(PROMPT, train_data, reflection_model="openai:/gpt-4o")

    reflections = [r for r in fake_llm_env.chat_requests if _is_reflection(r)]
    assert [r.body.get("model") for r in reflections] == ["gpt-4o"], (
        f"expected one reflection call to the model given as reflection_model (gpt-4o); found "
        f"calls to {[r.body.get('model') for r in reflections] or 'no reflection model'}"
    )
    runs = all_runs()
    tracked = [r for r in runs if "final_eval_score" in r.data.metrics]
    assert tracked, (
        "expected a run with the optimization's metrics initial_eval_score and "
        f"final_eval_score (mlflow.genai.optimize_prompts logs them); found runs with metrics "
        f"{[r.data.metrics for r in runs]}"
    )
    assert tracked[0].data.params.get("optimizer") == "MetaPromptOptimizer", (
        f"expected the MetaPromptOptimizer; the run says {tracked[0].data.params}"
    )
