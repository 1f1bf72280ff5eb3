"""Exercise 3: built-in LLM judges, during an evaluation and after the fact.

Some qualities no string comparison can check: is the answer correct in
substance, does it address the question, is it backed by the retrieved
documents, does it follow your style rules? MLflow's built-in *LLM judges*
ask a judge model these questions and turn its reply into a verdict
(``"yes"`` / ``"no"``) with a rationale. A judge is a scorer like any other:
give it to ``mlflow.genai.evaluate``, or call it on a trace you already have.

Every judge takes ``model=``, a model URI such as ``"openai:/gpt-4o-mini"``;
the OpenAI provider reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` (or
``OPENAI_API_BASE``) from the environment. The tests pass a URI whose requests
reach a fake judge model on 127.0.0.1; with your own key the same code asks
OpenAI.

Build:

1. ``builtin_judges(judge_model)``: ``Correctness``, ``RelevanceToQuery``,
   ``RetrievalGroundedness`` and a ``Guidelines`` judge of your own rule.
2. ``evaluate_with_judges(predict_fn, data, judge_model)``: evaluate with them.
3. ``judge_trace(trace_id, judge_model)``: judge a stored production trace and
   log the verdicts on it yourself, keeping who gave them (the source), and
   without crashing when the judge model fails.

MLflow APIs practised: ``mlflow.genai.scorers`` (``Correctness``,
``RelevanceToQuery``, ``RetrievalGroundedness``, ``Guidelines``),
``mlflow.genai.evaluate``, ``mlflow.get_trace``, ``mlflow.log_assessment`` /
``mlflow.log_feedback``, ``mlflow.entities.Feedback`` and ``AssessmentSource``.

Done looks like this: in the UI, each evaluated trace shows four judge
assessments with their rationale (hover them) and the source ``LLM_JUDGE``; a
row whose judge call failed shows the error instead of a verdict; the stored
trace you judged afterwards carries two more feedbacks.

Run the checks: ``uv run pytest exercises/module_06/test_ex03_llm_judges.py``
"""

from __future__ import annotations

from collections.abc import Callable

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback  # noqa: F401
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import (  # noqa: F401
    Correctness,
    Guidelines,
    RelevanceToQuery,
    RetrievalGroundedness,
)

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
    # TODO: build the four judges, passing model=judge_model to each.
    raise NotImplementedError("builtin_judges: not written yet (see the TODO above)")


def evaluate_with_judges(
    predict_fn: Callable[..., str], data: list[dict], judge_model: str
) -> EvaluationResult:
    """Evaluate ``predict_fn`` on ``data`` with ``builtin_judges(judge_model)``.

    Every judge gives each row a yes/no verdict with a rationale, stored on the
    row's trace with the source ``LLM_JUDGE`` and the judge model as source id. A
    judge call that fails is recorded on its row; the evaluation goes on.
    """
    # TODO: run mlflow.genai.evaluate with the judges as scorers and return the result.
    raise NotImplementedError("evaluate_with_judges: not written yet (see the TODO above)")


def judge_trace(trace_id: str, judge_model: str) -> list[Feedback]:
    """Judge one stored trace (e.g. a production request) after the fact.

    Run ``RelevanceToQuery`` and the ``GUIDELINES_NAME`` guidelines judge (both
    asking ``judge_model``) on the trace, and log each verdict on that trace as a
    feedback that keeps the judge's name, value, rationale and its source: an
    ``LLM_JUDGE`` whose source id is ``judge_model``. When a judge call fails,
    log a feedback with that judge's name and the error instead, and carry on
    with the other judge: never raise. Returns the feedbacks logged.
    """
    # TODO: get the trace, call each judge with trace=..., log what it returns on the
    #       trace; catch a failing call and log a Feedback carrying the error instead.
    raise NotImplementedError("judge_trace: not written yet (see the TODO above)")
