"""Checks for ex04_custom_judge: a make_judge judge, an aggregated code metric, their history."""

import json

import mlflow
import pytest

from fixtures.assessments import assessments, describe_assessments
from fixtures.judges import JUDGE_MODEL, verdict
from fixtures.messages import shown
from fixtures.traces import search_traces

QUESTION = "How do I deploy the newest model version?"
ANSWER = "Point the alias champion at it with MlflowClient().set_registered_model_alias."
LEGACY = "transition_model_version_stage("  # only the 2.x answers of these tests say this

DATA = [
    {"inputs": {"question": "How do I promote a model?"}},
    {"inputs": {"question": "How do I evaluate my agent?"}},
]


def _app(base: str):
    """An app version: its answer to the first question, and one more API for the second."""

    def predict(question: str) -> str:
        if question == DATA[0]["inputs"]["question"]:
            return base
        return base + " Then look at mlflow.search_traces."

    return predict


VERSIONS = {
    "v1": _app("Call client.transition_model_version_stage(name, 3, 'Production')."),
    "v2": _app("Set an alias, then run mlflow.genai.evaluate."),
    "v3": _app("Build data with mlflow.genai.datasets, then mlflow.genai.evaluate with scorers."),
}
# api_mentions of each version: (first row, second row)
MENTIONS = {"v1": (0, 1), "v2": (1, 2), "v3": (2, 3)}


def _legacy_is_no(request):
    """The fake judge: an answer that moves a registry stage breaks the rule."""
    text = " ".join(str(m.get("content")) for m in (request.body or {}).get("messages") or [])
    return verdict(LEGACY not in text)


def _request_text(request) -> str:
    return json.dumps((request.body or {}).get("messages"))


# --- the custom judge on its own --------------------------------------------------------------


def test_the_custom_judge_shows_the_judge_model_the_question_and_the_answer(exercise, judge_llm):
    judge_llm.says(True)
    judge = exercise.idioms_judge(JUDGE_MODEL)

    feedback = judge(inputs={"question": QUESTION}, outputs=ANSWER)

    name = getattr(judge, "name", None)
    assert name == "mlflow3_idioms", (
        f"expected the judge to be named 'mlflow3_idioms'; found {shown(name)}"
    )
    assert len(judge_llm.calls) == 1, (
        f"expected calling the judge to ask the judge model once; it asked "
        f"{len(judge_llm.calls)} times"
    )
    sent = _request_text(judge_llm.calls[0])
    for what, text in (("question", QUESTION), ("answer", ANSWER)):
        assert text in sent, (
            f"expected the judge's request to show the {what} {text!r}; it did not. Use the "
            "template variables {{ inputs }} and {{ outputs }} in the instructions."
        )
    source = getattr(feedback, "source", None)
    assert getattr(source, "source_type", None) == "LLM_JUDGE", (
        f"expected an LLM_JUDGE feedback; got {shown(feedback)}"
    )


def test_the_custom_judge_asks_for_a_true_or_false_verdict(exercise, judge_llm):
    judge_llm.says(False)

    feedback = exercise.idioms_judge(JUDGE_MODEL)(inputs={"question": QUESTION}, outputs=ANSWER)

    assert judge_llm.calls, "expected calling the judge to ask the judge model; it did not"
    schema = (judge_llm.calls[0].body.get("response_format") or {}).get("json_schema", {})
    result_type = schema.get("schema", {}).get("properties", {}).get("result", {}).get("type")
    assert result_type == "boolean", (
        f"expected the judge to ask its model for a boolean verdict (feedback_value_type=bool); "
        f"the request's response schema says the result is {result_type!r}"
    )
    value = getattr(feedback, "value", None)
    assert value is False, f"expected the verdict False; got {shown(value)}"


def test_api_mentions_counts_distinct_mlflow_apis(exercise):
    answer = (
        "Use mlflow.genai.evaluate with scorers from mlflow.genai.scorers; "
        "mlflow.genai.evaluate again, then mlflow.search_traces. MLflow is great."
    )
    found = exercise.api_mentions(outputs=answer)
    assert found == 3, (
        "expected api_mentions to count 3 distinct MLflow APIs (mlflow.genai.evaluate, "
        f"mlflow.genai.scorers, mlflow.search_traces); got {shown(found)}"
    )


def test_api_mentions_does_not_take_a_full_stop_for_part_of_a_name(exercise):
    answer = "Call mlflow.search_traces. Later, call mlflow.search_traces again."
    found = exercise.api_mentions(outputs=answer)
    assert found == 1, (
        "expected api_mentions to count 1 API (mlflow.search_traces, named twice; the full "
        f"stop after the first one ends the sentence, not the name); got {shown(found)}"
    )


# --- evaluation runs and their history --------------------------------------------------------


def test_a_version_is_evaluated_in_its_own_tagged_run_with_aggregated_metrics(exercise, judge_llm):
    judge_llm.server.responder = _legacy_is_no

    run_id = exercise.evaluate_version("v2", VERSIONS["v2"], DATA, JUDGE_MODEL)

    run = mlflow.get_run(run_id)
    assert (run.info.run_name, run.data.tags.get("app_version")) == ("v2", "v2"), (
        f"expected a run named 'v2' with the tag app_version='v2'; found the run "
        f"{run.info.run_name!r} with tags {run.data.tags}"
    )
    low, high = MENTIONS["v2"]
    expected = {
        "api_mentions/mean": (low + high) / 2,
        "api_mentions/min": low,
        "api_mentions/max": high,
        "api_mentions/p90": low + 0.9 * (high - low),
        "mlflow3_idioms/mean": 1.0,
    }
    metrics = run.data.metrics
    for key, value in expected.items():
        assert metrics.get(key) == pytest.approx(value), (
            f"expected the run metric {key} = {value}; found {metrics.get(key)!r} (all: "
            f"{metrics}). Aggregations come from @scorer(aggregations=[...])."
        )
    for trace in search_traces(run_id=run_id):
        judged = assessments(trace, name="mlflow3_idioms", source_type="LLM_JUDGE")
        assert judged, (
            "expected an 'mlflow3_idioms' LLM_JUDGE verdict on every row's trace; found "
            f"{describe_assessments(assessments(trace))}"
        )


def test_the_metric_history_follows_the_versions_in_order(exercise, judge_llm):
    judge_llm.server.responder = _legacy_is_no
    mlflow.set_experiment("kata-ex04-history")
    for version, app in VERSIONS.items():
        exercise.evaluate_version(version, app, DATA, JUDGE_MODEL)

    mentions = exercise.metric_history("api_mentions/mean")
    idioms = exercise.metric_history("mlflow3_idioms/mean")

    expected = [(v, (low + high) / 2) for v, (low, high) in MENTIONS.items()]
    assert [(v, pytest.approx(x)) for v, x in expected] == mentions, (
        f"expected the history of api_mentions/mean, oldest first, to be {expected}; "
        f"found {shown(mentions)}"
    )
    assert [(v, pytest.approx(x)) for v, x in [("v1", 0.0), ("v2", 1.0), ("v3", 1.0)]] == idioms, (
        "expected the history of mlflow3_idioms/mean to be [('v1', 0.0), ('v2', 1.0), "
        f"('v3', 1.0)] (v1 recommends a registry stage); found {shown(idioms)}"
    )


def test_the_history_is_read_from_the_store_not_remembered(exercise, mlflow_store):
    client = mlflow_store.client()

    def finished_run(experiment_id, started, tags, metrics):
        run = client.create_run(experiment_id, start_time=started, tags=tags)
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)

    elsewhere = mlflow.set_experiment("kata-ex04-elsewhere").experiment_id
    finished_run(elsewhere, 1_000, {"app_version": "other"}, {"api_mentions/mean": 9.0})
    here = mlflow.set_experiment("kata-ex04-history").experiment_id
    finished_run(here, 3_000, {"app_version": "b"}, {"api_mentions/mean": 2.5})
    finished_run(here, 2_000, {"app_version": "a"}, {"api_mentions/mean": 1.0})
    finished_run(here, 4_000, {}, {"api_mentions/mean": 7.0})
    finished_run(here, 5_000, {"app_version": "c"}, {"other/mean": 1.0})

    history = exercise.metric_history("api_mentions/mean")

    assert history == [("a", 1.0), ("b", 2.5)], (
        "expected only the runs of the active experiment that have the app_version tag and "
        f"the metric, oldest run first: [('a', 1.0), ('b', 2.5)]; found {shown(history)}"
    )
