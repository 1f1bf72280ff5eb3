"""The ``judge_llm`` fixture: MLflow's real LLM judges, answered by the fake server."""

import time

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.genai.scorers import Correctness

from fixtures.judges import JUDGE_MODEL, verdict


def _correctness(**kwargs):
    judge = Correctness(model=JUDGE_MODEL)
    return judge(
        inputs={"question": "What is MLflow?"},
        outputs="An open-source platform for the ML lifecycle.",
        expectations={"expected_facts": ["MLflow is open source"]},
        **kwargs,
    )


def test_a_verdict_is_the_json_reply_that_judges_parse():
    assert verdict("no", "Too vague.").text == '{"result": "no", "rationale": "Too vague."}'


def test_a_builtin_judge_gets_the_scripted_verdict_and_rationale(judge_llm):
    judge_llm.says("no", rationale="It misses the fact.")

    feedback = _correctness()

    assert (feedback.value, feedback.rationale) == ("no", "It misses the fact.")
    assert len(judge_llm.calls) == 1
    assert judge_llm.calls[0].body["model"] == "gpt-4o-mini"


def test_unscripted_judge_calls_get_the_default_verdict(judge_llm):
    judge_llm.default = "no"
    assert _correctness().value == "no"


def test_a_scripted_failure_fails_at_once_without_retries(judge_llm):
    judge_llm.fails(message="scripted refusal")
    start = time.monotonic()

    with pytest.raises(MlflowException, match="scripted refusal"):
        _correctness()

    assert len(judge_llm.calls) == 1
    assert time.monotonic() - start < 5


def test_in_an_evaluation_a_failing_judge_is_recorded_on_its_row(judge_llm):
    judge_llm.says("yes").fails(message="scripted refusal")
    rows = [
        {"inputs": {"question": q}, "expectations": {"expected_response": "A platform."}}
        for q in ("What is MLflow?", "What is a run?")
    ]

    result = mlflow.genai.evaluate(
        data=rows,
        predict_fn=lambda question: "A platform.",
        scorers=[Correctness(model=JUDGE_MODEL)],
    )

    errors = list(result.result_df["correctness/error_message"].dropna())
    assert len(errors) == 1 and "scripted refusal" in errors[0]
    assert result.metrics["correctness/mean"] == 1.0
