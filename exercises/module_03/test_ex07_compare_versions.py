"""Checks for ex07_compare_versions: prompt versions evaluated, compared, the winner promoted.

The fake LLM behind the OpenAI client only answers with the labels a prompt
names (fixtures/prompt_quality.py). On these 3 reviews (one of each label):
version 1 (no "neutral") scores 2/3, versions 2 and 4 (all three labels) 1.0,
version 3 (no label) 1/3.
"""

import mlflow
import pytest
from mlflow.genai.scorers import Scorer

from fixtures.messages import shown
from fixtures.prompt_quality import expected_accuracy, prompt_quality_responder
from fixtures.prompts import linked_prompts, prompt_aliases
from fixtures.runs import all_runs
from fixtures.sentiment import generate_reviews
from fixtures.traces import search_traces

NAME = "sentiment"
V1 = "Is this review positive or negative?\nReview: {{text}}"
V2 = "Label the review as positive, negative or neutral.\nReview: {{text}}"
V3 = "What do you think of this review?\nReview: {{text}}"
V4 = "Answer positive, negative or neutral, nothing else.\nReview: {{text}}"
REVIEWS = generate_reviews(3)
ACCURACY = {v: expected_accuracy(t, REVIEWS) for v, t in {1: V1, 2: V2, 3: V3, 4: V4}.items()}
LAMP = "Lamp shop. Say positive, negative or neutral.\nReview: {{text}}"
METRIC = "correct_label/mean"


@pytest.fixture
def versions(fake_llm_env, monkeypatch):
    """Versions 1-4 of the prompt, production on version 1, another prompt (lamp-sentiment),
    the fake LLM answering."""
    # evaluate() first calls predict_fn on one row, untraced, to check it: skip that call.
    monkeypatch.setenv("MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION", "true")
    fake_llm_env.responder = prompt_quality_responder
    for template in (V1, V2, V3, V4):
        mlflow.genai.register_prompt(name=NAME, template=template)
    mlflow.genai.set_prompt_alias(NAME, "production", 1)
    mlflow.genai.register_prompt(name="lamp-sentiment", template=LAMP)
    return fake_llm_env


def _value(result):
    return getattr(result, "value", result)  # a Feedback, or the plain value


def _evaluation_runs() -> list:
    return [run for run in all_runs() if METRIC in run.data.metrics]


def _describe_runs() -> str:
    return "; ".join(
        f"{run.info.run_name}: metrics {run.data.metrics}, prompts {linked_prompts(run)}"
        for run in all_runs()
    )


def test_correct_label_accepts_the_expected_label_in_any_case_or_spacing(exercise):
    expected = {"label": "positive"}

    right = _value(exercise.correct_label(outputs=" Positive\n", expectations=expected))
    wrong = _value(exercise.correct_label(outputs="negative", expectations=expected))

    assert (right, wrong) == (True, False), (
        "expected correct_label to be True for ' Positive\\n' and False for 'negative' when the "
        f"label is 'positive'; got {shown(right)} and {shown(wrong)}"
    )
    assert isinstance(exercise.correct_label, Scorer), (
        "expected correct_label to be an MLflow scorer: decorate it with @scorer "
        "(from mlflow.genai.scorers)"
    )


def test_to_eval_data_turns_each_review_into_inputs_and_expectations(exercise):
    rows = exercise.to_eval_data(REVIEWS[:2])

    expected = [
        {"inputs": {"text": r["text"]}, "expectations": {"label": r["label"]}} for r in REVIEWS[:2]
    ]
    assert rows == expected, f"expected the rows {expected}; got {shown(rows)}"


def test_evaluate_version_logs_an_evaluation_run_linked_to_that_version(exercise, versions):
    run_id, accuracy = exercise.evaluate_version(1, REVIEWS)

    runs = {run.info.run_id: run for run in all_runs()}
    assert isinstance(run_id, str) and run_id in runs, (
        f"expected the id of the evaluation run; got {shown(run_id)}"
    )
    run = runs[run_id]
    assert run.data.metrics.get(METRIC) == pytest.approx(ACCURACY[1]), (
        f"expected the evaluation run to log {METRIC} = {ACCURACY[1]:.3f} for version 1 (the "
        f"fake LLM never answers 'neutral' to it); found metrics {run.data.metrics}"
    )
    assert isinstance(accuracy, int | float) and accuracy == pytest.approx(ACCURACY[1]), (
        f"expected evaluate_version to return the accuracy {ACCURACY[1]:.3f}; got {shown(accuracy)}"
    )
    prompts = linked_prompts(run)
    assert prompts == [f"{NAME}/1"], (
        f"expected the evaluation run to be linked to {NAME}/1; linked prompts: "
        f"{prompts or 'none'}. Load the prompt while the run is active (in predict_fn)."
    )
    traces = search_traces(run_id=run_id)
    assert len(traces) == len(REVIEWS), (
        f"expected one trace per review ({len(REVIEWS)}) in the evaluation run; found {len(traces)}"
    )


def test_evaluate_version_sends_the_named_prompt_to_MODEL_as_one_user_message(exercise, versions):
    neutral = [r for r in REVIEWS if r["label"] == "neutral"]

    exercise.evaluate_version(1, neutral, name="lamp-sentiment")

    expected = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": LAMP.replace("{{text}}", neutral[0]["text"])}],
    }
    sent = [{k: r.body.get(k) for k in expected} for r in versions.chat_requests]
    assert sent and all(body == expected for body in sent), (
        "expected predict_fn to load prompts:/lamp-sentiment/1 (the name= given), fill in the "
        f"review and send it to MODEL as one user message: {expected}; the server received "
        f"{shown(sent, 600)}"
    )


def _winner(comparison):
    return getattr(comparison, "winner", None)


def test_compare_and_promote_evaluates_each_version_promotes_the_winner_and_logs_it(
    exercise, versions
):
    comparison = exercise.compare_and_promote(REVIEWS, [1, 2])

    by_prompt = {
        ", ".join(linked_prompts(run)) or "no prompt": round(run.data.metrics[METRIC], 3)
        for run in _evaluation_runs()
    }
    expected = {f"{NAME}/1": round(ACCURACY[1], 3), f"{NAME}/2": round(ACCURACY[2], 3)}
    assert len(_evaluation_runs()) == 2 and by_prompt == expected, (
        f"expected two evaluation runs, each linked to the version it evaluated, with "
        f"{METRIC}: {expected}; found runs: {_describe_runs()}"
    )
    run_id = getattr(comparison, "run_id", None)
    parents = {
        run.info.run_name: run.data.tags.get("mlflow.parentRunId") for run in _evaluation_runs()
    }
    assert isinstance(run_id, str) and set(parents.values()) == {run_id}, (
        f"expected both evaluation runs to be nested under the comparison run {shown(run_id)} "
        f"(mlflow.start_run(nested=True) inside it); their parent runs: {parents}"
    )
    accuracy = getattr(comparison, "accuracy", None)
    assert isinstance(accuracy, dict) and accuracy == pytest.approx(
        {1: ACCURACY[1], 2: ACCURACY[2]}
    ), f"expected Comparison.accuracy {{1: {ACCURACY[1]:.3f}, 2: 1.0}}; got {shown(accuracy)}"

    # the same call also promotes the winner and logs the comparison
    aliases = prompt_aliases(NAME)
    assert aliases.get("production") == 2 and _winner(comparison) == 2, (
        f"expected version 2 (accuracy 1.0 against {ACCURACY[1]:.3f}) to win and 'production' "
        f"to point at it; winner {shown(_winner(comparison))}, aliases {aliases}"
    )
    run = mlflow.get_run(run_id)
    logged = {k: round(v, 3) for k, v in run.data.metrics.items() if k.startswith("accuracy_")}
    expected = {"accuracy_v1": round(ACCURACY[1], 3), "accuracy_v2": 1.0}
    assert logged == expected and run.data.tags.get("winner_version") == "2", (
        f"expected the comparison run to log the metrics {expected} and the tag "
        f"winner_version='2'; found metrics {run.data.metrics}, winner_version="
        f"{run.data.tags.get('winner_version')!r}"
    )


def test_compare_and_promote_keeps_production_when_the_new_version_is_worse(exercise, versions):
    comparison = exercise.compare_and_promote(REVIEWS, [1, 3])

    aliases = prompt_aliases(NAME)
    assert aliases.get("production") == 1 and _winner(comparison) == 1, (
        f"expected version 1 ({ACCURACY[1]:.3f}) to beat version 3 ({ACCURACY[3]:.3f}) and "
        f"'production' to stay on version 1; winner {shown(_winner(comparison))}, aliases "
        f"{aliases}. A newer version is not a better one: let the evaluation decide."
    )


def test_compare_and_promote_on_a_tie_promotes_the_earliest_version_listed(exercise, versions):
    comparison = exercise.compare_and_promote(REVIEWS, [4, 2])

    aliases = prompt_aliases(NAME)
    assert aliases.get("production") == 4 and _winner(comparison) == 4, (
        f"expected versions 4 and 2 to tie (accuracy {ACCURACY[4]:.3f} and {ACCURACY[2]:.3f}) "
        "and version 4, the earliest in the list [4, 2], to win and go into production; "
        f"winner {shown(_winner(comparison))}, aliases {aliases}"
    )
