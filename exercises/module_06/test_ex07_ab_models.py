"""Checks for ex07_ab_models: two model sizes, their quality and their cost per request.

Both models are the kit's graded fake model (fixtures/graded_qa.py) on 127.0.0.1:
"kata-large" knows every answer, "kata-small" half of them. The local price
table (the model_prices fixture) charges kata-small $0.10/$0.40 and kata-large
$2.00/$8.00 per million input/output tokens; tokens are words.
"""

import mlflow
import pytest
from mlflow.entities import SpanType
from mlflow.tracing.constant import SpanAttributeKey

from fixtures.graded_qa import LARGE_MODEL, SMALL_MODEL, graded_responder, known_questions
from fixtures.messages import shown
from fixtures.traces import search_traces

QUESTIONS = known_questions()[:4]  # kata-small knows 2 of them
DATA = [
    {"inputs": {"question": q["question"]}, "expectations": {"expected_response": q["answer"]}}
    for q in QUESTIONS
]
SMALL_QUALITY = sum(q["small_knows"] for q in QUESTIONS) / len(QUESTIONS)

TABLE = [
    {"model": "tiny", "quality": 0.40, "cost_per_request": 0.00001},
    {"model": "small", "quality": 0.75, "cost_per_request": 0.00004},
    {"model": "medium", "quality": 0.75, "cost_per_request": 0.00003},
    {"model": "large", "quality": 0.95, "cost_per_request": 0.00090},
]


@pytest.fixture
def graded_models(fake_llm_env, model_prices):
    fake_llm_env.responder = graded_responder
    return model_prices


def _row(table, model):
    try:
        rows = [r for r in table if isinstance(r, dict) and r.get("model") == model]
    except TypeError:
        rows = []
    assert len(rows) == 1, f"expected one row for {model!r} in the table; found {shown(table)}"
    return rows[0]


@mlflow.trace(span_type=SpanType.CHAT_MODEL)
def _unpriced_call(question):
    """An LLM call whose span has token usage but names no model: nothing can price it."""
    usage = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    mlflow.get_current_active_span().set_attribute(SpanAttributeKey.CHAT_USAGE, usage)
    return "an answer"


# --- picking a model --------------------------------------------------------------------------


def test_the_cheapest_model_that_meets_the_bar_is_picked(exercise):
    picked = exercise.cheapest_meeting_bar(TABLE, 0.7)
    assert picked == "medium", (
        "expected 'medium': of the models with quality >= 0.7 (small, medium, large) it costs "
        f"least per request; got {shown(picked)}"
    )


def test_meeting_the_bar_exactly_is_enough(exercise):
    picked = exercise.cheapest_meeting_bar(TABLE, 0.75)
    assert picked == "medium", (
        f"expected 'medium' (quality 0.75 meets a bar of 0.75); got {shown(picked)}"
    )


def test_no_model_is_picked_when_none_meets_the_bar(exercise):
    picked = exercise.cheapest_meeting_bar(TABLE, 0.99)
    assert picked is None, f"expected None: no model reaches quality 0.99; got {shown(picked)}"


# --- the scorer -------------------------------------------------------------------------------


def test_correct_finds_the_expected_response_whatever_its_case(exercise):
    expectations = {"expected_response": "Aliases"}

    found = [
        getattr(result, "value", result)  # a plain value, or a Feedback's
        for result in (
            exercise.correct(outputs=text, expectations=expectations)
            for text in ("Use ALIASES now.", "use aliases", "Use stages.")
        )
    ]

    assert found == [True, True, False], (
        "expected correct to be True for 'Use ALIASES now.' and 'use aliases' (the expected "
        f"response 'Aliases', ignoring case) and False for 'Use stages.'; got {shown(found)}"
    )


# --- the evaluation runs and the table --------------------------------------------------------


def test_each_model_is_evaluated_in_its_own_run_with_priced_traces(exercise, graded_models):
    run_id = exercise.evaluate_model(SMALL_MODEL, DATA)

    run = mlflow.get_run(run_id)
    assert (run.info.run_name, run.data.tags.get("model")) == (SMALL_MODEL, SMALL_MODEL), (
        f"expected a run named {SMALL_MODEL!r} with the tag model={SMALL_MODEL!r}; found "
        f"{run.info.run_name!r} with tags {run.data.tags}"
    )
    quality = run.data.metrics.get("correct/mean")
    assert quality == pytest.approx(SMALL_QUALITY), (
        f"expected correct/mean = {SMALL_QUALITY} for {SMALL_MODEL} (it knows half the "
        f"answers); found {quality!r}. Ask with PROMPT, which asks for one short phrase."
    )
    traces = search_traces(run_id=run_id)
    assert len(traces) == len(DATA), f"expected {len(DATA)} traces in the run; found {len(traces)}"
    for trace in traces:
        assert trace.info.cost and trace.info.cost.get("total_cost", 0) > 0, (
            f"expected MLflow to price every call (trace.info.cost); found {trace.info.cost!r}. "
            "MLflow prices a call when its span names the model and the provider: call the "
            "model through LangChain's ChatOpenAI with mlflow.langchain.autolog() on."
        )


def test_the_table_shows_quality_and_cost_per_request_of_each_model(exercise, graded_models):
    runs = [exercise.evaluate_model(m, DATA) for m in (SMALL_MODEL, LARGE_MODEL)]

    table = exercise.cost_quality_table(runs)

    for model, run_id, quality in (
        (SMALL_MODEL, runs[0], SMALL_QUALITY),
        (LARGE_MODEL, runs[1], 1),
    ):
        row = _row(table, model)
        traces = search_traces(run_id=run_id)
        usages = [t.info.token_usage for t in traces]
        cost = sum(
            graded_models.cost(model, u["input_tokens"], u["output_tokens"]) for u in usages
        ) / len(usages)
        tokens = sum(u["total_tokens"] for u in usages) / len(usages)
        expected = {
            "quality": pytest.approx(quality),
            "requests": len(DATA),
            "tokens_per_request": pytest.approx(tokens),
            "cost_per_request": pytest.approx(cost),
        }
        found = {key: row.get(key) for key in expected}
        assert found == expected, (
            f"expected the row of {model} to be {expected} (cost from the local price table and "
            f"each trace's token usage, averaged over the run's traces); found {shown(found)}"
        )


def test_cost_per_request_is_none_when_nothing_priced_the_traces(exercise):
    with mlflow.start_run(run_name="unpriced", tags={"model": "unpriced"}) as run:
        mlflow.log_metric("correct/mean", 0.5)
        for question in ("What replaced stages?", "Which decorator traces?"):
            _unpriced_call(question)

    table = exercise.cost_quality_table([run.info.run_id])

    row = _row(table, "unpriced")
    assert row.get("cost_per_request", "missing") is None, (
        "expected cost_per_request None for a run whose traces have token usage but no cost "
        f"(nothing priced them), not a cost of 0; found {shown(row.get('cost_per_request'))}"
    )
