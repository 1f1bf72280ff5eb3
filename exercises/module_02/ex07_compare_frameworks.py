"""Exercise 7: compare LangChain and LlamaIndex by what their traces say.

The plan's "multi-framework comparison": run the LangChain chain and the
LlamaIndex query engine on the same questions and compare them. Traces make
that comparison concrete: how many steps each framework takes (spans), what
kinds of steps (span types), how long it takes (latency), what it costs
(tokens), whether it worked (status). Collect that from the traces and log it
as a table in one MLflow run, so the comparison itself is tracked.

1. ``trace_summary(trace)``: one trace's numbers, read from the trace alone
   (``trace.info`` and ``trace.data.spans``).
2. ``compare_frameworks(questions, chain, query_engine)``: autolog on for both
   frameworks, every question through both inside one run, one table row per
   trace logged with ``mlflow.log_table``, and per-framework metrics.

MLflow API practised: ``mlflow.langchain.autolog``, ``mlflow.llama_index.autolog``,
``mlflow.get_last_active_trace_id``, ``mlflow.get_trace``, ``Trace.info``
(``execution_duration``, ``token_usage``, ``state``), ``mlflow.log_table``,
``mlflow.log_metrics``; traces recorded inside a run are linked to it.

Done looks like this: in the UI, the run has ``trace_comparison.json`` in its
artifacts (shown as a table in the Evaluation/Artifacts view), its metrics, and
in its Traces tab the four traces of two questions.

Run the checks: ``uv run pytest exercises/module_02/test_ex07_compare_frameworks.py``
"""

from __future__ import annotations

from typing import Any

import mlflow  # noqa: F401 - you will need it
import pandas as pd  # noqa: F401 - mlflow.log_table takes a DataFrame or a dict of columns
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
    # TODO: read trace.info (trace_id, execution_duration, token_usage, state) and
    #       trace.data.spans (their number and their span_type).
    raise NotImplementedError("trace_summary: not written yet (see the TODO above)")


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
    # TODO: switch on both autologs; in a run, call each framework on each question, get
    #       the trace it recorded (mlflow.get_last_active_trace_id, then mlflow.get_trace;
    #       flush async logging first), summarize it, log the table and the metrics.
    raise NotImplementedError("compare_frameworks: not written yet (see the TODO above)")
