"""Checks for ex03_hybrid_ml: an LLM-derived feature, a scikit-learn model, one lineage."""

import random

import mlflow
import pandas as pd
import pytest

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
    assert list(scores) == expected, f"expected the scores {expected}; got {scores}"
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
    accuracy = (classifier.predict(held_out[exercise.FEATURES]) == held_out["churned"]).mean()

    assert accuracy >= 0.9, (
        f"expected the logged classifier to predict churn on new customers with accuracy >= 0.9 "
        f"(churn depends on the review's sentiment); it scored {accuracy:.2f}. Does it get "
        f"the columns {exercise.FEATURES}, with the LLM's score in llm_sentiment?"
    )
    assert result.accuracy >= 0.9, f"expected the held-out accuracy >= 0.9; got {result.accuracy}"


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
