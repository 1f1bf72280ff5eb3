"""Reference solution for module_06/ex07_ab_models: quality against cost, model by model."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
from langchain_openai import ChatOpenAI
from mlflow.genai.scorers import scorer

MODEL_TAG = "model"
PROMPT = "Answer in one short phrase: {question}"


def make_app(model: str) -> Callable[[str], str]:
    """The app under test, asking ``model`` through LangChain's ``ChatOpenAI``.

    ``predict(question)`` sends ``PROMPT`` filled with the question and returns the
    reply's text. ``ChatOpenAI`` reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``
    from the environment. Turn on ``mlflow.langchain.autolog()`` so that every call
    is a CHAT_MODEL span with its token usage, which MLflow prices: the trace's
    ``info.cost``.
    """
    mlflow.langchain.autolog()  # LangChain spans carry the model and provider: MLflow prices them
    llm = ChatOpenAI(model=model, temperature=0)

    def predict(question: str) -> str:
        return llm.invoke(PROMPT.format(question=question)).content

    return predict


@scorer
def correct(outputs: str, expectations: dict) -> bool:
    """True when the answer contains ``expectations["expected_response"]``, ignoring case."""
    return str(expectations["expected_response"]).lower() in str(outputs).lower()


def evaluate_model(model: str, data: list[dict]) -> str:
    """Evaluate ``make_app(model)`` on ``data`` with ``correct``, in a run named ``model``
    and tagged ``MODEL_TAG`` = ``model``. Returns the run id."""
    with mlflow.start_run(run_name=model, tags={MODEL_TAG: model}) as run:
        mlflow.genai.evaluate(data=data, predict_fn=make_app(model), scorers=[correct])
    return run.info.run_id


def cost_quality_table(run_ids: list[str]) -> list[dict]:
    """Quality against cost, one row per evaluation run, read from the store.

    Each row is ``{"model", "quality", "requests", "tokens_per_request",
    "cost_per_request"}``: the run's ``MODEL_TAG`` tag, its ``correct/mean``
    metric, the number of traces the run recorded, and the mean over those traces
    of their total tokens (``info.token_usage["total_tokens"]``) and of their total
    cost in dollars (``info.cost["total_cost"]``). When a trace has no cost,
    ``cost_per_request`` is ``None``: nothing priced it.
    """
    table = []
    for run_id in run_ids:
        run = mlflow.get_run(run_id)
        traces = mlflow.search_traces(
            locations=[run.info.experiment_id], run_id=run_id, return_type="list"
        )
        costs = [(t.info.cost or {}).get("total_cost") for t in traces]
        tokens = [(t.info.token_usage or {}).get("total_tokens", 0) for t in traces]
        table.append(
            {
                "model": run.data.tags[MODEL_TAG],
                "quality": run.data.metrics["correct/mean"],
                "requests": len(traces),
                "tokens_per_request": sum(tokens) / len(traces),
                "cost_per_request": (
                    None if None in costs else sum(costs) / len(traces)  # type: ignore[arg-type]
                ),
            }
        )
    return table


def cheapest_meeting_bar(table: list[dict], quality_bar: float) -> str | None:
    """The model of the cheapest row (lowest ``cost_per_request``) among the rows whose
    ``quality`` is at least ``quality_bar``; ``None`` when no row meets the bar."""
    good_enough = [row for row in table if row["quality"] >= quality_bar]
    if not good_enough:
        return None
    return min(good_enough, key=lambda row: row["cost_per_request"])["model"]
