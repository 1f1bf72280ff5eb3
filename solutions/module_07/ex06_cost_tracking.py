"""Reference solution for module_07/ex06_cost_tracking: tokens and dollars per request."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
from langchain_openai import ChatOpenAI

MODEL = "gpt-4o-mini"
MODEL_ATTRIBUTE = "mlflow.llm.model"  # the span attribute that names the model called


def ask(question: str, model: str = MODEL) -> str:
    """Ask ``model`` one question through LangChain's ``ChatOpenAI`` and return the reply's
    text, with MLflow's LangChain autologging on, so the call is one trace that records
    the model, its token usage and (when MLflow knows the model's price) its cost."""
    mlflow.langchain.autolog()  # patches LangChain once; calling it again is harmless
    # ChatOpenAI reads OPENAI_API_KEY and OPENAI_BASE_URL: point them at any endpoint.
    return ChatOpenAI(model=model, temperature=0).invoke(question).content


@dataclass
class RequestCost:
    """What one traced request used and cost."""

    trace_id: str
    model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None when MLflow could not price the model


def _model_of(trace) -> str | None:
    for span in trace.data.spans:
        model = span.get_attribute(MODEL_ATTRIBUTE)
        if model:
            return model
    return None


def request_costs(experiment_id: str | None = None) -> list[RequestCost]:
    """The tokens and cost of every traced request that called a chat model, oldest first.

    Read them from the traces, as MLflow recorded them: ``trace.info.token_usage``
    (``input_tokens``, ``output_tokens``), ``trace.info.cost`` (``total_cost`` in dollars,
    or None) and the ``mlflow.llm.model`` attribute of the span that called the model.
    Traces without token usage are left out. ``experiment_id=None`` means the current
    experiment.
    """
    locations = [experiment_id] if experiment_id else None
    traces = mlflow.search_traces(
        locations=locations, return_type="list", order_by=["timestamp_ms ASC"]
    )
    costs = []
    for trace in traces:
        usage = trace.info.token_usage
        if not usage:
            continue  # no chat model reported usage in this request
        cost = trace.info.cost  # priced from MLflow's model catalog (or a local one)
        costs.append(
            RequestCost(
                trace_id=trace.info.trace_id,
                model=_model_of(trace),
                input_tokens=int(usage.get("input_tokens", 0)),
                output_tokens=int(usage.get("output_tokens", 0)),
                cost_usd=cost.get("total_cost") if cost else None,
            )
        )
    return costs


@dataclass
class ModelCost:
    """The requests of one model, added up."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_requests: int = 0  # requests whose cost MLflow did not know (not in cost_usd)


def cost_by_model(costs: list[RequestCost]) -> dict[str, ModelCost]:
    """Add up requests, tokens and dollars per model (``"unknown"`` when a request's
    model is None); a request without a cost counts in ``unpriced_requests``."""
    totals: dict[str, ModelCost] = {}
    for cost in costs:
        total = totals.setdefault(cost.model or "unknown", ModelCost())
        total.requests += 1
        total.input_tokens += cost.input_tokens
        total.output_tokens += cost.output_tokens
        if cost.cost_usd is None:
            total.unpriced_requests += 1
        else:
            total.cost_usd += cost.cost_usd
    return totals
