"""Exercise 8: port the plan's legacy evaluation to MLflow 3.

The learning plan evaluates its RAG agent with the MLflow 2.x API:

    eval_data = pd.DataFrame({
        "question": ["What is ML?", "Explain Python"],
        "ground_truth": ["Machine learning is...", "Python is..."],
    })

    def model_fn(inputs):
        return [agent.invoke(q) for q in inputs["question"]]

    results = mlflow.evaluate(
        model=model_fn,
        data=eval_data,
        model_type="question-answering",
        evaluators=["default"],
        extra_metrics=[
            mlflow.metrics.genai.answer_similarity(),
            mlflow.metrics.genai.answer_correctness(),
            mlflow.metrics.genai.faithfulness(),
        ],
    )
    print(results.metrics)

In MLflow 3 ``mlflow.evaluate`` and ``mlflow.metrics.genai`` are deprecated
(they warn; the tests turn the warnings into failures). Their replacement is
``mlflow.genai.evaluate`` with scorers: records of ``inputs`` and
``expectations`` instead of free-form columns, a ``predict_fn`` called once per
record with keyword arguments instead of a function over a DataFrame, and the
built-in judges instead of the ``mlflow.metrics.genai`` metrics. You also get
a trace per row with every verdict and its rationale, which the legacy API
never gave you.

Build:

1. ``to_genai_records(eval_data)``: the legacy table as records.
2. ``as_predict_fn(model_fn)``: the legacy model function as a ``predict_fn``.
3. ``genai_scorers(judge_model)``: the three judges that replace the legacy metrics.
4. ``port_evaluation(model_fn, eval_data, judge_model)``: the evaluation, MLflow 3 style.
5. ``in_legacy_terms(metrics)``: the new means under the old names.

MLflow APIs practised: ``mlflow.genai.evaluate``, ``mlflow.genai.scorers``
(``Equivalence``, ``Correctness``, ``RetrievalGroundedness``).

Done looks like this: in the UI, the evaluation run has ``equivalence/mean``,
``correctness/mean`` and ``retrieval_groundedness/mean``; each row's trace shows
the retriever span the groundedness judge read, the expected response, and the
three verdicts.

Run the checks: ``uv run pytest exercises/module_06/test_ex08_port_legacy.py``
"""

from __future__ import annotations

from collections.abc import Callable

import mlflow  # noqa: F401 - you will need these
import pandas as pd
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import Correctness, Equivalence, RetrievalGroundedness  # noqa: F401

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
    # TODO: turn each row of the DataFrame into a record.
    raise NotImplementedError("to_genai_records: not written yet (see the TODO above)")


def as_predict_fn(model_fn: Callable[[pd.DataFrame], list[str]]) -> Callable[..., str]:
    """Adapt the legacy ``model_fn`` (a DataFrame of questions in, a list of answers out)
    to a ``predict_fn``: ``predict(question=...)`` returns the one answer for one question.
    ``mlflow.genai.evaluate`` calls it once per record, with the record's inputs as
    keyword arguments."""
    # TODO: return a predict(question) that calls model_fn with a one-row DataFrame.
    raise NotImplementedError("as_predict_fn: not written yet (see the TODO above)")


def genai_scorers(judge_model: str) -> list:
    """The MLflow 3 judges that replace the plan's legacy metrics, each asking ``judge_model``:
    ``Equivalence`` for answer_similarity, ``Correctness`` for answer_correctness,
    ``RetrievalGroundedness`` for faithfulness (it reads the RETRIEVER spans of each
    trace). Keep their default names (see ``LEGACY_TO_GENAI``)."""
    # TODO: build the three judges with model=judge_model.
    raise NotImplementedError("genai_scorers: not written yet (see the TODO above)")


def port_evaluation(
    model_fn: Callable[[pd.DataFrame], list[str]], eval_data: pd.DataFrame, judge_model: str
) -> EvaluationResult:
    """The plan's legacy evaluation, rewritten for MLflow 3: same data, same model
    function, the judges of ``genai_scorers``, one ``mlflow.genai.evaluate`` call.
    No ``mlflow.evaluate``, no ``mlflow.metrics.genai``."""
    # TODO: call mlflow.genai.evaluate with the records, the predict_fn and the judges.
    raise NotImplementedError("port_evaluation: not written yet (see the TODO above)")


def in_legacy_terms(metrics: dict[str, float]) -> dict[str, float]:
    """The evaluation's means under the legacy metric names, for dashboards that still
    read them: ``{"answer_similarity": <equivalence/mean>, ...}`` (see ``LEGACY_TO_GENAI``).
    The values are the fractions of "yes" verdicts, not the legacy 1-5 scores."""
    # TODO: map each legacy name to the "<judge name>/mean" metric.
    raise NotImplementedError("in_legacy_terms: not written yet (see the TODO above)")
