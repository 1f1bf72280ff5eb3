"""Reference solution for module_06/ex03_llm_judges: built-in LLM judges, in and out of evaluate."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import Correctness, Guidelines, RelevanceToQuery, RetrievalGroundedness

GUIDELINES_NAME = "plain_language"
GUIDELINES = (
    "The response uses plain language that a newcomer to MLflow understands, "
    "and spells out any acronym it uses."
)


def builtin_judges(judge_model: str) -> list:
    """The four built-in judges of this exercise, each asking ``judge_model``.

    - ``Correctness``: does the answer support the expected response? (needs expectations)
    - ``RelevanceToQuery``: does the answer address the question?
    - ``RetrievalGroundedness``: is the answer backed by what the retriever found?
      (reads the RETRIEVER span of the trace)
    - ``Guidelines`` named ``GUIDELINES_NAME`` that checks ``GUIDELINES``.

    ``judge_model`` is a model URI such as ``"openai:/gpt-4o-mini"``.
    """
    return [
        Correctness(model=judge_model),
        RelevanceToQuery(model=judge_model),
        RetrievalGroundedness(model=judge_model),
        Guidelines(name=GUIDELINES_NAME, guidelines=GUIDELINES, model=judge_model),
    ]


def evaluate_with_judges(
    predict_fn: Callable[..., str], data: list[dict], judge_model: str
) -> EvaluationResult:
    """Evaluate ``predict_fn`` on ``data`` with ``builtin_judges(judge_model)``.

    Every judge gives each row a yes/no verdict with a rationale, stored on the
    row's trace with the source ``LLM_JUDGE`` and the judge model as source id. A
    judge call that fails is recorded on its row; the evaluation goes on.
    """
    # evaluate() catches a failing judge per row and records the error there.
    return mlflow.genai.evaluate(
        data=data, predict_fn=predict_fn, scorers=builtin_judges(judge_model)
    )


def judge_trace(trace_id: str, judge_model: str) -> list[Feedback]:
    """Judge one stored trace (e.g. a production request) after the fact.

    Run ``RelevanceToQuery`` and the ``GUIDELINES_NAME`` guidelines judge (both
    asking ``judge_model``) on the trace, and log each verdict on that trace as a
    feedback that keeps the judge's name, value, rationale and its source: an
    ``LLM_JUDGE`` whose source id is ``judge_model``. When a judge call fails,
    log a feedback with that judge's name and the error instead, and carry on
    with the other judge: never raise. Returns the feedbacks logged.
    """
    trace = mlflow.get_trace(trace_id)
    judges = [
        RelevanceToQuery(model=judge_model),
        Guidelines(name=GUIDELINES_NAME, guidelines=GUIDELINES, model=judge_model),
    ]
    logged = []
    for judge in judges:
        try:
            # A judge reads the question and the answer from the trace itself.
            feedback = judge(trace=trace)
        except Exception as error:  # a judge that fails must not stop the others
            feedback = Feedback(
                name=judge.name,
                error=error,
                source=AssessmentSource(
                    source_type=AssessmentSourceType.LLM_JUDGE, source_id=judge_model
                ),
            )
        # The judge's Feedback already carries its LLM_JUDGE source and rationale.
        logged.append(mlflow.log_assessment(trace_id=trace_id, assessment=feedback))
    return logged
