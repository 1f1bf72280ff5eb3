"""Reference solution for module_06/ex08_port_legacy: mlflow.evaluate ported to mlflow.genai."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
import pandas as pd
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import Correctness, Equivalence, RetrievalGroundedness

# The legacy metric of the plan, and the MLflow 3 judge that replaces it.
LEGACY_TO_GENAI = {
    "answer_similarity": "equivalence",
    "answer_correctness": "correctness",
    "faithfulness": "retrieval_groundedness",
}


def to_genai_records(eval_data: pd.DataFrame) -> list[dict]:
    """The legacy evaluation table as MLflow 3 evaluation records.

    Each row ``{"question": q, "ground_truth": g}`` becomes
    ``{"inputs": {"question": q}, "expectations": {"expected_response": g}}``:
    inputs are what the app is called with, expectations what the judges compare
    against (``expected_response`` is the key the built-in judges read).
    """
    return [
        {
            "inputs": {"question": row["question"]},
            "expectations": {"expected_response": row["ground_truth"]},
        }
        for row in eval_data.to_dict("records")
    ]


def as_predict_fn(model_fn: Callable[[pd.DataFrame], list[str]]) -> Callable[..., str]:
    """Adapt the legacy ``model_fn`` (a DataFrame of questions in, a list of answers out)
    to a ``predict_fn``: ``predict(question=...)`` returns the one answer for one question.
    ``mlflow.genai.evaluate`` calls it once per record, with the record's inputs as
    keyword arguments."""

    def predict(question: str) -> str:
        return model_fn(pd.DataFrame({"question": [question]}))[0]

    return predict


def genai_scorers(judge_model: str) -> list:
    """The MLflow 3 judges that replace the plan's legacy metrics, each asking ``judge_model``:
    ``Equivalence`` for answer_similarity, ``Correctness`` for answer_correctness,
    ``RetrievalGroundedness`` for faithfulness (it reads the RETRIEVER spans of each
    trace). Keep their default names (see ``LEGACY_TO_GENAI``)."""
    return [
        Equivalence(model=judge_model),
        Correctness(model=judge_model),
        RetrievalGroundedness(model=judge_model),
    ]


def port_evaluation(
    model_fn: Callable[[pd.DataFrame], list[str]], eval_data: pd.DataFrame, judge_model: str
) -> EvaluationResult:
    """The plan's legacy evaluation, rewritten for MLflow 3: same data, same model
    function, the judges of ``genai_scorers``, one ``mlflow.genai.evaluate`` call.
    No ``mlflow.evaluate``, no ``mlflow.metrics.genai``."""
    return mlflow.genai.evaluate(
        data=to_genai_records(eval_data),
        predict_fn=as_predict_fn(model_fn),
        scorers=genai_scorers(judge_model),
    )


def in_legacy_terms(metrics: dict[str, float]) -> dict[str, float]:
    """The evaluation's means under the legacy metric names, for dashboards that still
    read them: ``{"answer_similarity": <equivalence/mean>, ...}`` (see ``LEGACY_TO_GENAI``).
    The values are the fractions of "yes" verdicts, not the legacy 1-5 scores."""
    return {legacy: metrics[f"{name}/mean"] for legacy, name in LEGACY_TO_GENAI.items()}
