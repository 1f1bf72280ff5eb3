"""Checks for ex08_port_legacy: the plan's mlflow.evaluate, ported to mlflow.genai.evaluate.

Every test here turns MLflow's deprecation warnings into errors, so the legacy
call (mlflow.evaluate, mlflow.metrics.genai.*) fails at the line that makes it.
"""

import mlflow
import pandas as pd
import pytest
from mlflow.entities import SpanType

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.judges import JUDGE_MODEL
from fixtures.messages import shown
from fixtures.traces import search_traces, span_tree

pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")

EVAL_DATA = pd.DataFrame(
    {
        "question": ["What replaced model stages?", "Which decorator traces a function?"],
        "ground_truth": ["Aliases replaced stages.", "The @mlflow.trace decorator."],
    }
)
DOCS = {
    "What replaced model stages?": "Aliases replaced stages in the model registry.",
    "Which decorator traces a function?": "The @mlflow.trace decorator traces a function.",
}
JUDGES = ["equivalence", "correctness", "retrieval_groundedness"]


@mlflow.trace(span_type=SpanType.RETRIEVER)
def _retrieve(question):
    text = DOCS.get(question, "No document mentions this.")
    return [{"page_content": text, "metadata": {"doc_uri": "docs.md"}}]


@mlflow.trace(name="rag", span_type=SpanType.CHAIN)
def _rag(question):
    return _retrieve(question)[0]["page_content"]


def model_fn(inputs: pd.DataFrame) -> list[str]:
    """The plan's legacy model function: a DataFrame of questions in, answers out."""
    return [_rag(q) for q in inputs["question"]]


def test_the_legacy_table_becomes_records_of_inputs_and_expectations(exercise):
    records = exercise.to_genai_records(EVAL_DATA)

    expected = [
        {"inputs": {"question": q}, "expectations": {"expected_response": g}}
        for q, g in zip(EVAL_DATA["question"], EVAL_DATA["ground_truth"], strict=True)
    ]
    assert records == expected, (
        "expected each row to become {'inputs': {'question': ...}, 'expectations': "
        f"{{'expected_response': <ground_truth>}}}}; got {shown(records)}"
    )


def test_the_predict_fn_calls_the_legacy_model_with_one_question(exercise):
    seen = []

    def legacy(inputs: pd.DataFrame) -> list[str]:
        seen.append(inputs)
        return [f"answer to {q}" for q in inputs["question"]]

    answer = exercise.as_predict_fn(legacy)(question="What is MLflow?")

    assert answer == "answer to What is MLflow?", (
        f"expected predict(question=...) to return the model's one answer; got {shown(answer)}"
    )
    assert len(seen) == 1 and list(seen[0]["question"]) == ["What is MLflow?"], (
        "expected the legacy model to get a DataFrame with a 'question' column holding the "
        f"one question; it got {seen}"
    )


def test_the_ported_evaluation_runs_the_three_replacement_judges_on_every_row(exercise, judge_llm):
    result = exercise.port_evaluation(model_fn, EVAL_DATA, JUDGE_MODEL)

    run_id = getattr(result, "run_id", None)
    assert run_id, f"expected mlflow.genai.evaluate's result to be returned; got {shown(result)}"
    metrics = mlflow.get_run(run_id).data.metrics
    for name in JUDGES:
        assert metrics.get(f"{name}/mean") == pytest.approx(1.0), (
            f"expected the metric {name}/mean = 1.0 (the fake judge says yes); found {metrics}"
        )
    assert len(judge_llm.calls) == len(EVAL_DATA) * len(JUDGES), (
        f"expected {len(EVAL_DATA) * len(JUDGES)} judge calls (3 judges x {len(EVAL_DATA)} "
        f"rows); found {len(judge_llm.calls)}"
    )
    for trace in search_traces(run_id=run_id):
        found = {a.name for a in assessments(trace, source_type="LLM_JUDGE")}
        assert set(JUDGES) <= found, (
            f"expected verdicts of {JUDGES} on every row's trace; found "
            f"{describe_assessments(assessments(trace))}. The trace:\n{span_tree(trace)}"
        )


def test_the_ground_truth_is_logged_as_the_expected_response(exercise, judge_llm):
    result = exercise.port_evaluation(model_fn, EVAL_DATA, JUDGE_MODEL)

    run_id = getattr(result, "run_id", None)
    assert run_id, f"expected mlflow.genai.evaluate's result to be returned; got {shown(result)}"
    logged = sorted(
        assessment_value(a)
        for trace in search_traces(run_id=run_id)
        for a in assessments(trace, name="expected_response")
    )
    assert logged == sorted(EVAL_DATA["ground_truth"]), (
        "expected each row's ground_truth on its trace as the expectation 'expected_response'; "
        f"found {logged}"
    )


def test_the_means_are_reported_under_the_legacy_names(exercise):
    metrics = {
        "equivalence/mean": 0.5,
        "correctness/mean": 0.75,
        "retrieval_groundedness/mean": 1.0,
        "other/mean": 0.1,
    }

    legacy = exercise.in_legacy_terms(metrics)

    expected = {"answer_similarity": 0.5, "answer_correctness": 0.75, "faithfulness": 1.0}
    assert legacy == expected, f"expected {expected}; got {shown(legacy)}"
