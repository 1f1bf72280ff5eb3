"""Reference solution for module_06/ex11_trace_judge: a judge that reads a whole trace.

An agent's tool call failed, and the agent answered anyway as if nothing happened.
Neither the question nor the answer shows it: only the trace does (the TOOL span's
ERROR status and exception). A ``make_judge`` judge whose instructions use
``{{ trace }}`` gets no text pasted in: MLflow gives the judge model tools
(``get_trace_info``, ``list_spans``, ``get_root_span``, ``get_span``,
``search_trace_regex`` ...) and runs a tool-calling loop until the model answers.

Done when the judge flags the traces where a failure was hidden, clears those where
the agent owned up, and only traces with a failed span are sent to this (expensive)
judge.
"""

from __future__ import annotations

import mlflow
from mlflow.entities import Trace
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.judges import Judge, make_judge

JUDGE_NAME = "hidden_tool_failure"

_INSTRUCTIONS = """\
You audit the execution of a support agent: {{ trace }}

Look at every TOOL span of the trace. Did a tool call fail (status ERROR, or an
exception event), and does the agent's final answer (the root span's outputs) hide
that failure, answering as if the tool had worked? Answer true when a failed tool
call is hidden from the user, false when no tool failed or the answer says that it
failed."""


def hidden_failure_judge(judge_model: str) -> Judge:
    """The judge, made with ``make_judge``:

    - name ``JUDGE_NAME``;
    - instructions in your words that use the template variable ``{{ trace }}`` (and no
      other), and tell the judge what to look for: a *tool* call that *failed* (the words
      "tool" and "fail" or "error" appear), and whether the final answer hides it;
    - a true/false verdict (``feedback_value_type=bool``): true when a failure is hidden;
    - ``model=judge_model``.
    """
    return make_judge(
        name=JUDGE_NAME,
        instructions=_INSTRUCTIONS,
        feedback_value_type=bool,
        model=judge_model,
    )


def traces_with_failed_spans() -> list[Trace]:
    """The traces of the active experiment in which at least one span failed (span
    status ERROR), oldest first. The agent catches the tool's exception, so the trace
    itself ends OK: filter on the spans, not on the trace's status."""
    return mlflow.search_traces(
        filter_string="span.status = 'ERROR'",
        order_by=["timestamp_ms ASC"],
        return_type="list",
    )


def judge_failed_traces(judge_model: str) -> EvaluationResult | None:
    """Run ``hidden_failure_judge(judge_model)`` with ``mlflow.genai.evaluate`` over
    ``traces_with_failed_spans()`` (no ``predict_fn``: the traces already exist); each
    verdict is logged on its trace, named ``JUDGE_NAME``. Returns the evaluation result,
    or None (and asks no judge) when no trace has a failed span."""
    traces = traces_with_failed_spans()
    if not traces:
        return None
    return mlflow.genai.evaluate(data=traces, scorers=[hidden_failure_judge(judge_model)])


def hidden_failures() -> list[str]:
    """The ids of the traces of the active experiment whose ``JUDGE_NAME`` verdict is
    true (a hidden failure), oldest first, read from the store. Traces never judged, or
    whose judge call failed, are not listed."""
    flagged = []
    for trace in mlflow.search_traces(order_by=["timestamp_ms ASC"], return_type="list"):
        if any(
            a.name == JUDGE_NAME and a.feedback is not None and a.value is True
            for a in trace.info.assessments
        ):
            flagged.append(trace.info.trace_id)
    return flagged
