"""Checks for ex03_hybrid_ml: an LLM-derived feature, a scikit-learn model, one lineage."""

import numbers
import random

import mlflow
import pandas as pd
import pytest

from fixtures.messages import shown
from fixtures.runs import all_runs, model_ids_of
from fixtures.sentiment import generate_reviews, label_of, sentiment_responder
from fixtures.traces import find_spans, search_traces, span_tree, token_usage

pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")

SCORES = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}


def customers(n, seed):
    """Customers whose churn depends on how they feel (the review) and on their tickets:
    unhappy ones leave, and so do indifferent ones with three tickets or more."""
    rng = random.Random(seed)
    rows = []
    for review in generate_reviews(n, seed=seed):
        tickets = rng.randint(0, 5)
        churned = review["label"] == "negative" or (review["label"] == "neutral" and tickets >= 3)
        rows.append(
            {
                "review": review["text"],
                "support_tickets": tickets,
                "tenure_months": rng.randint(1, 48),
                "churned": int(churned),
            }
        )
    return rows


@pytest.fixture
def trained(exercise, fake_llm_env):
    """The learner's model trained on 36 customers; the fake LLM labels reviews."""
    fake_llm_env.responder = sentiment_responder
    data = customers(36, seed=1)
    return exercise.train_churn_model(data), data


def _llm_spans(trace):
    return find_spans(trace, span_type="CHAT_MODEL") + find_spans(trace, span_type="LLM")


def test_the_llm_feature_scores_each_review_from_the_models_answer(exercise, fake_llm_env):
    fake_llm_env.responder = sentiment_responder
    reviews = [r["text"] for r in generate_reviews(6)]

    scores = exercise.llm_sentiment_scores(reviews)

    expected = [SCORES[label_of(r)] for r in reviews]
    assert list(scores) == expected, f"expected the scores {expected}; got {shown(scores)}"
    assert len(fake_llm_env.chat_requests) == 6, (
        f"expected one LLM call per review (6); the model saw {len(fake_llm_env.chat_requests)}"
    )
    traces = search_traces()
    assert len(traces) == 1, (
        f"expected the feature step to be ONE trace; found {len(traces)}. Trace the function "
        "that loops over the reviews."
    )
    assert len(_llm_spans(traces[0])) == 6, (
        f"expected each LLM call as an LLM or CHAT_MODEL span in that trace; found spans:\n"
        f"{span_tree(traces[0])}\nmlflow.openai.autolog() records the OpenAI client's calls."
    )


def test_the_llm_feature_asks_the_given_model_with_the_sentiment_prompt(exercise, fake_llm_env):
    fake_llm_env.responder = sentiment_responder
    reviews = [r["text"] for r in generate_reviews(3)]

    exercise.llm_sentiment_scores(reviews, model="kata-mini")

    requests = fake_llm_env.chat_requests
    models = [r.body.get("model") for r in requests]
    assert models == ["kata-mini"] * 3, (
        f"expected one call per review to the model given as model ('kata-mini'); found calls "
        f"to {shown(models)}"
    )
    expected = [exercise.SENTIMENT_PROMPT.format(review=review) for review in reviews]
    sent = [r.last_user_text for r in requests]
    assert sent == expected, (
        f"expected each review sent as SENTIMENT_PROMPT filled with it, e.g. "
        f"{shown(expected[0])}; the model received {shown(sent)}"
    )


def test_an_answer_that_is_not_a_label_scores_zero(exercise, fake_llm_env):
    reviews = [r["text"] for r in generate_reviews(6) if label_of(r["text"]) != "neutral"][:2]

    def unsure_about_the_first(request):
        if reviews[0] in request.last_user_text:
            return "Hard to say."
        return sentiment_responder(request)

    fake_llm_env.responder = unsure_about_the_first

    scores = exercise.llm_sentiment_scores(reviews)

    expected = [0.0, SCORES[label_of(reviews[1])]]
    assert list(scores) == expected, (
        f"expected the scores {expected}: 0.0 for the answer 'Hard to say.' (not a label), "
        f"then the second review's score; got {shown(scores)}"
    )


def test_the_classifier_is_a_logged_model_named_churn_classifier_from_the_run(
    exercise, trained, mlflow_store
):
    result, _ = trained

    model = mlflow_store.client().get_logged_model(result.model_id)
    assert model.name == exercise.MODEL_NAME, (
        f"expected the LoggedModel {result.model_id} to be named {exercise.MODEL_NAME!r}; "
        f"found {model.name!r}"
    )
    assert str(model.status) in ("READY", "LoggedModelStatus.READY"), (
        f"expected the classifier's LoggedModel to be READY (its files logged with "
        f"mlflow.sklearn.log_model); found status {model.status}"
    )
    runs = all_runs()
    assert [r.info.run_id for r in runs] == [result.run_id], (
        f"expected everything in one run, {result.run_id}; found runs "
        f"{[r.info.run_id for r in runs]}"
    )
    assert result.model_id in model_ids_of(runs[0]), (
        f"expected the run to list the classifier {result.model_id} among its models; "
        f"it lists {sorted(model_ids_of(runs[0])) or 'none'}"
    )


def test_the_classifier_predicts_churn_with_the_llm_feature(exercise, trained):
    result, _ = trained
    held_out = pd.DataFrame(customers(90, seed=7))
    held_out["llm_sentiment"] = [SCORES[label_of(text)] for text in held_out["review"]]

    classifier = mlflow.sklearn.load_model(f"models:/{result.model_id}")
    try:
        predicted = classifier.predict(held_out[exercise.FEATURES])
    except Exception as err:  # noqa: BLE001 - explain in the learner's terms
        pytest.fail(
            f"expected the logged classifier to predict from the columns {exercise.FEATURES}, "
            f"in that order; predicting failed: {type(err).__name__}: {shown(str(err))}",
            pytrace=False,
        )
    accuracy = (predicted == held_out["churned"]).mean()

    assert accuracy >= 0.9, (
        f"expected the logged classifier to predict churn on new customers with accuracy >= 0.9 "
        f"(churn depends on the review's sentiment); it scored {accuracy:.2f}. Does it get "
        f"the columns {exercise.FEATURES}, with the LLM's score in llm_sentiment?"
    )
    assert result.accuracy >= 0.9, (
        f"expected the held-out accuracy >= 0.9; got {shown(result.accuracy)}"
    )


def test_the_llm_steps_trace_is_in_the_run_and_linked_to_the_classifier(trained):
    result, data = trained

    in_run = search_traces(run_id=result.run_id)
    assert in_run, (
        f"expected the LLM feature step's trace in the run {result.run_id}; the run has none "
        f"({len(search_traces())} traces in all). Call the LLM while the run is active."
    )
    linked = {t.info.trace_id for t in search_traces(model_id=result.model_id)}
    unlinked = [t.info.trace_id for t in in_run if t.info.trace_id not in linked]
    assert not unlinked, (
        f"expected the run's traces to be linked to the classifier {result.model_id}; "
        f"{len(unlinked)} of {len(in_run)} are not. Make the classifier's LoggedModel the "
        "active model before calling the LLM, and log the classifier into that same model."
    )
    calls = sum(len(_llm_spans(t)) for t in in_run)
    assert calls == len(data), (
        f"expected the run's traces to hold one LLM span per customer ({len(data)}); found {calls}"
    )


def test_the_run_and_the_classifier_carry_the_llm_metrics(trained, mlflow_store):
    result, data = trained
    tokens = sum((token_usage(t) or {}).get("total_tokens", 0) for t in search_traces())

    run_metrics = all_runs()[0].data.metrics
    expected = {"llm_calls": len(data), "llm_total_tokens": tokens}
    for key, value in expected.items():
        assert run_metrics.get(key) == value, (
            f"expected the run's metric {key} = {value} (read from the LLM step's trace); "
            f"found {run_metrics.get(key)}"
        )
    model = mlflow_store.client().get_logged_model(result.model_id)
    on_model = {m.key: m.value for m in model.metrics or []}
    missing = {"accuracy", "llm_calls", "llm_total_tokens"} - on_model.keys()
    assert not missing, (
        f"expected the classifier's LoggedModel to carry the metrics accuracy, llm_calls and "
        f"llm_total_tokens; missing {sorted(missing)} (found {on_model}). Log them in the run "
        "that logs the classifier (MLflow links them to its model), or pass model_id=."
    )


def test_the_accuracy_is_measured_on_a_held_out_quarter(exercise, fake_llm_env):
    fake_llm_env.responder = sentiment_responder
    data = customers(36, seed=1)
    for noisy in (0, 5, 10):  # churn that contradicts the pattern: no classifier is perfect
        data[noisy]["churned"] = 1 - data[noisy]["churned"]

    result = exercise.train_churn_model(data)

    held_out = len(data) // 4
    accuracy = getattr(result, "accuracy", None)
    correct = accuracy * held_out if isinstance(accuracy, numbers.Real) else None
    assert correct is not None and abs(correct - round(correct)) < 1e-6, (
        f"expected the accuracy on a held-out quarter of the 36 customers, i.e. a number of "
        f"right answers out of {held_out}; got {shown(accuracy)}, which is not k/{held_out}. "
        "Score the classifier on customers it was not trained on, not on the training data."
    )
    logged = all_runs()[0].data.metrics.get("accuracy")
    assert logged == pytest.approx(accuracy), (
        f"expected the run's metric accuracy to be the held-out accuracy {shown(accuracy)}; "
        f"found {shown(logged)}"
    )
