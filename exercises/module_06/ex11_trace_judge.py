"""Exercise 11: a judge that reads the whole trace, with ``{{ trace }}``.

An agent's tool call failed, and the agent answered anyway as if nothing had
happened. Neither the question nor the answer shows it: only the trace does (the
TOOL span's ERROR status and its exception). A ``make_judge`` judge whose
instructions use ``{{ trace }}`` gets no text pasted in: MLflow offers the judge
model tools (``get_trace_info``, ``list_spans``, ``get_root_span``, ``get_span``,
``search_trace_regex`` ...) and runs a tool-calling loop until the model answers.

The agent is given (``fixtures.agent_traces``); the tests pass a judge model URI
whose requests reach a fake judge model on 127.0.0.1, which walks the trace with
those tools before it answers. With your own key the same code asks OpenAI.

Build:

1. ``hidden_failure_judge(judge_model)``: the ``{{ trace }}`` judge.
2. ``traces_with_failed_spans()``: the traces in which a span failed.
3. ``judge_failed_traces(judge_model)``: the judge over those traces only (each
   tool round is one more model call: run agentic judges where they are needed).
4. ``hidden_failures()``: the traces the judge flagged, read from the store.

MLflow APIs practised: ``mlflow.genai.judges.make_judge`` with ``{{ trace }}``,
``mlflow.search_traces(filter_string="span.status = ...")``,
``mlflow.genai.evaluate`` on existing traces, the trace's assessments.

Done looks like this: in the UI, the runs whose failure was hidden carry
``hidden_tool_failure`` = true with the judge's rationale, those where the agent
owned up carry false, and runs where no tool failed carry no verdict.

Run the checks: ``uv run pytest exercises/module_06/test_ex11_trace_judge.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import Trace
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.judges import Judge, make_judge  # noqa: F401

JUDGE_NAME = "hidden_tool_failure"


def hidden_failure_judge(judge_model: str) -> Judge:
    """The judge, made with ``make_judge``:

    - name ``JUDGE_NAME``;
    - instructions in your words that use the template variable ``{{ trace }}`` (and no
      other), and tell the judge what to look for: a *tool* call that *failed* (the words
      "tool" and "fail" or "error" appear), and whether the final answer hides it;
    - a true/false verdict (``feedback_value_type=bool``): true when a failure is hidden;
    - ``model=judge_model``.
    """
    # TODO: make_judge(name=..., instructions=... {{ trace }} ..., feedback_value_type=...,
    #       model=judge_model).
    raise NotImplementedError("hidden_failure_judge: not written yet (see the TODO above)")


def traces_with_failed_spans() -> list[Trace]:
    """The traces of the active experiment in which at least one span failed (span
    status ERROR), oldest first. The agent catches the tool's exception, so the trace
    itself ends OK: filter on the spans, not on the trace's status."""
    # TODO: mlflow.search_traces with a filter on the spans' status, oldest first, as a list.
    raise NotImplementedError("traces_with_failed_spans: not written yet (see the TODO above)")


def judge_failed_traces(judge_model: str) -> EvaluationResult | None:
    """Run ``hidden_failure_judge(judge_model)`` with ``mlflow.genai.evaluate`` over
    ``traces_with_failed_spans()`` (no ``predict_fn``: the traces already exist); each
    verdict is logged on its trace, named ``JUDGE_NAME``. Returns the evaluation result,
    or None (and asks no judge) when no trace has a failed span."""
    # TODO: evaluate the judge on traces_with_failed_spans(); None when there are none.
    raise NotImplementedError("judge_failed_traces: not written yet (see the TODO above)")


def hidden_failures() -> list[str]:
    """The ids of the traces of the active experiment whose ``JUDGE_NAME`` verdict is
    true (a hidden failure), oldest first, read from the store. Traces never judged, or
    whose judge call failed, are not listed."""
    # TODO: the ids of the traces (oldest first) whose JUDGE_NAME feedback is True.
    raise NotImplementedError("hidden_failures: not written yet (see the TODO above)")
