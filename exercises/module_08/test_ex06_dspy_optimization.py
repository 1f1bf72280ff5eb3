"""Checks for ex06_dspy_optimization: a DSPy program traced, optimized, logged and versioned.

The fake model (fixtures/dspy_sentiment.py) only answers with sentiment labels it
has seen in the prompt, in the instructions or in the demonstrations. The
signature's instructions name none, so the unoptimized program labels every
review "positive" (1/3 on balanced reviews); BootstrapFewShot adds
demonstrations of the three labels, and the optimized program labels all of
them right.

DSPy is imported inside the fixtures (never at collection: ``import dspy`` costs
seconds); every test that calls a DSPy LM takes the kit's ``litellm`` fixture.
"""

import mlflow
import pytest

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.dspy_offline import offline_dspy
from fixtures.dspy_sentiment import dspy_sentiment_responder
from fixtures.messages import shown
from fixtures.prompts import linked_prompts, prompt_aliases, prompt_versions
from fixtures.sentiment import generate_reviews
from fixtures.traces import children_of, find_span, root_span, search_traces, span_tree, trace_of

pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")

PROMPT = "review-sentiment"
TRAIN = generate_reviews(6, seed=2)
DEV = generate_reviews(3, seed=1)  # one review of each label
ONLY_POSITIVE = [r for r in generate_reviews(12, seed=3) if r["label"] == "positive"]
NEUTRAL_REVIEW = "I bought the lamp for my brother last month."


@pytest.fixture
def dspy():
    """DSPy, imported for this test (openai first, no disk cache)."""
    return offline_dspy()


@pytest.fixture
def model(fake_llm_env, litellm, dspy):
    """The fake sentiment model, reached by DSPy's LMs through litellm."""
    fake_llm_env.responder = dspy_sentiment_responder
    return fake_llm_env


def _inputs(example):
    """The names of an example's input fields; None when none were marked."""
    try:
        return sorted(example.inputs().keys())
    except Exception:  # dspy raises ValueError before .with_inputs(...)
        return None


def _optimize(exercise, train=TRAIN):
    outcome = exercise.optimize_program(train, DEV, PROMPT)
    assert outcome is not None and getattr(outcome, "run_id", None), (
        f"expected optimize_program to return a DspyOptimization; got {shown(outcome)}"
    )
    return outcome


# --- tracing -----------------------------------------------------------------------------


def test_a_program_call_is_one_trace_with_the_predictor_over_the_chat_model_call(exercise, model):
    lm = exercise.configure_dspy()
    program = exercise.build_program()
    assert getattr(lm, "model", None) == "openai/gpt-4o-mini", (
        f"expected configure_dspy to return the dspy.LM of 'openai/gpt-4o-mini'; got {shown(lm)}"
    )

    def label_a_review():
        return program(review="The kettle is excellent and I love it.")

    prediction, trace = trace_of(label_a_review)

    root = root_span(trace)
    assert (root.name, root.span_type) == ("Predict.forward", "LLM"), (
        "expected the trace's root span to be the predictor, 'Predict.forward' (LLM); found "
        f"{span_tree(trace)}. Turn on mlflow.dspy.autolog() in configure_dspy."
    )
    chat = find_span(trace, span_type="CHAT_MODEL")
    assert chat.attributes.get("mlflow.llm.model") == "openai/gpt-4o-mini", (
        "expected the chat model span to name the model 'openai/gpt-4o-mini'; found "
        f"{shown(chat.attributes.get('mlflow.llm.model'))}"
    )
    assert chat in children_of(trace, root) and prediction.label == "positive", (
        f"expected the chat model call under the predictor; found {span_tree(trace)}"
    )


def test_every_call_reaches_the_model_nothing_is_cached(exercise, model):
    exercise.configure_dspy()
    program = exercise.build_program()

    program(review=NEUTRAL_REVIEW)
    program(review=NEUTRAL_REVIEW)

    assert len(model.chat_requests) == 2, (
        "expected the same review labelled twice to reach the model twice; it reached it "
        f"{len(model.chat_requests)} time(s). Make the LM with cache=False."
    )


# --- evaluation --------------------------------------------------------------------------


def test_the_metric_ignores_case_and_surrounding_whitespace(exercise, dspy):
    example = dspy.Example(review="Great kettle.", label="positive").with_inputs("review")

    same = exercise.label_matches(example, dspy.Prediction(label=" Positive\n"))
    other = exercise.label_matches(example, dspy.Prediction(label="negative"))

    assert (bool(same), bool(other)) == (True, False), (
        "expected label_matches to accept ' Positive\\n' for the label 'positive' and to "
        f"reject 'negative'; found {shown(same)} and {shown(other)}"
    )


def test_examples_keep_the_reviews_in_order_with_the_review_as_the_only_input(exercise, dspy):
    examples = exercise.to_examples(DEV)

    found = [(getattr(e, "review", None), getattr(e, "label", None), _inputs(e)) for e in examples]
    expected = [(r["text"], r["label"], ["review"]) for r in DEV]
    assert found == expected, (
        "expected one dspy.Example per review, in order, with review and label and only "
        f"'review' marked as input (.with_inputs('review')); found {shown(found)}"
    )


def test_accuracy_is_the_fraction_of_reviews_labelled_right(exercise, model):
    exercise.configure_dspy()

    found = exercise.accuracy(exercise.build_program(), DEV)

    assert found == pytest.approx(1 / 3), (
        "expected accuracy 1/3 (0.333...): the unoptimized program labels only the "
        f"positive review of 3 right; found {shown(found)}. dspy.Evaluate's score is a "
        "percentage rounded to 2 decimals."
    )


def test_each_evaluated_review_gets_a_label_matches_feedback_on_its_trace(exercise, model):
    exercise.configure_dspy()

    exercise.accuracy(exercise.build_program(), DEV)

    traces = search_traces()
    assert len(traces) == len(DEV), (
        f"expected one trace per evaluated review ({len(DEV)}); found {len(traces)}"
    )
    values = [[assessment_value(a) for a in assessments(t, name="label_matches")] for t in traces]
    assert sorted(map(tuple, values)) == sorted([(True,)] + [(False,)] * 2), (
        "expected each review's trace to carry one 'label_matches' feedback, True on the "
        f"positive review and False on the 2 others; found {values}; on the first trace: "
        f"{describe_assessments(assessments(traces[0]))}"
    )


# --- optimization --------------------------------------------------------------------------


def test_the_optimization_run_logs_the_accuracy_before_and_after(exercise, model):
    outcome = _optimize(exercise)

    run = mlflow.get_run(outcome.run_id)
    expected = {"baseline_accuracy": pytest.approx(1 / 3), "optimized_accuracy": 1.0}
    found = {k: run.data.metrics.get(k) for k in expected}
    assert found == expected, f"expected the run's metrics {expected}; found {run.data.metrics}"
    params = {
        "optimizer": "BootstrapFewShot",
        "max_bootstrapped_demos": "2",
        "max_labeled_demos": "4",
    }
    found_params = {k: run.data.params.get(k) for k in params}
    assert (run.info.run_name, found_params) == ("dspy-optimization", params), (
        f"expected the run 'dspy-optimization' with the params {params}; "
        f"found {shown(run.info.run_name)} with {run.data.params}"
    )


def test_the_optimized_program_is_a_logged_model_of_the_run_with_its_demonstrations(
    exercise, model
):
    outcome = _optimize(exercise)

    logged = mlflow.get_logged_model(outcome.model_id)
    assert (logged.name, logged.source_run_id) == ("sentiment_program", outcome.run_id), (
        "expected a LoggedModel 'sentiment_program' logged by the optimization run; found "
        f"{logged.name!r} from run {logged.source_run_id!r}"
    )
    program = mlflow.dspy.load_model(f"models:/{outcome.model_id}")
    labels = sorted(d.get("label") for d in program.demos)
    assert set(labels) == {"positive", "negative", "neutral"}, (
        "expected the logged program to be the compiled one, with demonstrations of the "
        f"three labels; found demonstrations labelled {labels}"
    )


def test_the_registered_prompt_is_exactly_what_the_optimized_program_sends(exercise, model):
    outcome = _optimize(exercise)
    program = mlflow.dspy.load_model(f"models:/{outcome.model_id}")

    program(review=NEUTRAL_REVIEW)

    version = mlflow.genai.load_prompt(f"prompts:/{PROMPT}/{outcome.prompt_version}")
    sent = [
        {"role": m["role"], "content": m["content"]}
        for m in model.chat_requests[-1].body["messages"]
    ]
    assert version.variables == {"review"} and version.format(review=NEUTRAL_REVIEW) == sent, (
        "expected the prompt version to be the compiled program's chat prompt with one "
        f"variable {{{{review}}}}; filled in, it gives {shown(version.format(review='…'))} "
        f"with variables {version.variables}; the program sent {shown(sent)}"
    )
    expected_tags = {"optimizer": "BootstrapFewShot", "accuracy": "1.0"}
    found_tags = {k: version.tags.get(k) for k in expected_tags}
    assert found_tags == expected_tags, (
        f"expected the version tagged {expected_tags} (the optimized accuracy as str(float)); "
        f"found {version.tags}"
    )


def test_the_logged_model_links_its_prompt_version(exercise, model):
    outcome = _optimize(exercise)

    links = linked_prompts(mlflow.get_logged_model(outcome.model_id))

    assert links == [f"{PROMPT}/{outcome.prompt_version}"], (
        f"expected the LoggedModel to link {PROMPT}/{outcome.prompt_version} (log_model's "
        f"prompts=); found {links}"
    )


def test_production_moves_to_the_new_version_only_when_accuracy_improves(exercise, model):
    flat = _optimize(exercise, train=ONLY_POSITIVE)  # demos of one label: no better
    assert prompt_aliases(PROMPT) == {} and len(prompt_versions(PROMPT)) == 1, (
        "expected an optimization that does not improve accuracy "
        f"({flat.baseline_accuracy} -> {flat.optimized_accuracy}) to register a version but "
        f"leave production unset; found aliases {prompt_aliases(PROMPT)}"
    )

    better = _optimize(exercise)

    assert prompt_aliases(PROMPT) == {"production": better.prompt_version}, (
        f"expected production on version {better.prompt_version} after an improvement; "
        f"found {prompt_aliases(PROMPT)}"
    )
    assert (flat.promoted, better.promoted) == (False, True), (
        "expected promoted=False for the optimization that did not improve and True for the "
        f"one that did; found {shown(flat.promoted)} and {shown(better.promoted)}"
    )
