"""Reference solution for module_02/ex07_compare_frameworks: two frameworks, compared by trace."""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.entities import Trace

COMPARISON_FILE = "trace_comparison.json"
COLUMNS = [
    "framework",
    "question",
    "trace_id",
    "span_count",
    "span_types",
    "latency_ms",
    "total_tokens",
    "status",
]
FRAMEWORKS = ("langchain", "llamaindex")


def trace_summary(trace: Trace) -> dict:
    """What one trace says about the run it recorded, read from the trace alone.

    Returns ``{"trace_id", "span_count", "span_types", "latency_ms", "total_tokens",
    "status"}``:
    - ``span_count``: how many spans the trace has;
    - ``span_types``: the distinct span types, sorted, joined by "," (e.g.
      ``"CHAIN,CHAT_MODEL"``);
    - ``latency_ms``: the trace's execution duration in milliseconds;
    - ``total_tokens``: the trace's total token usage, 0 when no model reported any;
    - ``status``: ``"OK"`` or ``"ERROR"``.
    """
    info = trace.info
    usage = info.token_usage or {}
    return {
        "trace_id": info.trace_id,
        "span_count": len(trace.data.spans),
        "span_types": ",".join(sorted({span.span_type for span in trace.data.spans})),
        "latency_ms": info.execution_duration,
        "total_tokens": int(usage.get("total_tokens") or 0),
        "status": info.state.value,
    }


def _traced_call(call: Any, argument: Any) -> Trace:
    """Call ``call(argument)`` and return the trace it recorded."""
    call(argument)
    trace_id = mlflow.get_last_active_trace_id()
    # With async logging (the default outside the tests) the trace may still be queued.
    mlflow.flush_trace_async_logging()
    return mlflow.get_trace(trace_id)


def compare_frameworks(
    questions: list[str], chain: Any, query_engine: Any, run_name: str = "framework-comparison"
) -> str:
    """Run a LangChain chain and a LlamaIndex query engine on the same questions, inside
    one MLflow run, and log what their traces say. Returns the run's id.

    - Switch on autologging for both frameworks before they run.
    - For each question: ``chain.invoke({"question": q})`` and ``query_engine.query(q)``,
      each recorded as one trace (traces recorded inside a run are linked to it).
    - Log one table row per trace as the run artifact ``COMPARISON_FILE``
      (``mlflow.log_table``), with the ``COLUMNS``: the framework
      (``"langchain"`` or ``"llamaindex"``), the question, and ``trace_summary``.
    - Log, per framework, the metrics ``<framework>_mean_latency_ms``,
      ``<framework>_mean_span_count`` and ``<framework>_total_tokens``.
    """
    mlflow.langchain.autolog(silent=True)
    mlflow.llama_index.autolog()

    rows = []
    with mlflow.start_run(run_name=run_name) as run:
        for question in questions:
            runs = {
                "langchain": (chain.invoke, {"question": question}),
                "llamaindex": (query_engine.query, question),
            }
            for framework, (call, argument) in runs.items():
                summary = trace_summary(_traced_call(call, argument))
                rows.append({"framework": framework, "question": question, **summary})

        table = pd.DataFrame(rows, columns=COLUMNS)
        mlflow.log_table(table, artifact_file=COMPARISON_FILE)
        for framework, group in table.groupby("framework"):
            mlflow.log_metrics(
                {
                    f"{framework}_mean_latency_ms": float(group["latency_ms"].mean()),
                    f"{framework}_mean_span_count": float(group["span_count"].mean()),
                    f"{framework}_total_tokens": float(group["total_tokens"].sum()),
                }
            )
    return run.info.run_id
