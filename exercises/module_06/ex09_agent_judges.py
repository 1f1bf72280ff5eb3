"""Exercise 9: agent and RAG judges that read the trace, not only the answer.

An answer can be right for the wrong reasons: the agent called the wrong tool,
called the same tool twice, or retrieved documents that do not hold the answer.
MLflow's built-in agent judges read the spans of each run:

- ``ToolCallCorrectness`` and ``ToolCallEfficiency`` read the TOOL spans (name,
  inputs, outputs, exception) and the tools declared on the CHAT_MODEL span;
- ``RetrievalRelevance`` and ``RetrievalSufficiency`` read the documents that a
  RETRIEVER span returned (``page_content`` and ``metadata.doc_uri``).

The agent is given (``fixtures.agent_traces.support_agent``): it plans with a
CHAT_MODEL span that declares its tools, calls TOOL spans, and its
``search_docs`` tool calls *your* retriever. The tests pass a judge model URI
whose requests reach a fake judge model on 127.0.0.1; with your own key the
same code asks OpenAI.

Build:

1. ``retrieve(query)``: the retriever, traced so that the retrieval judges can
   read its documents.
2. ``agent_judges(judge_model)``: the four built-in agent judges.
3. ``eval_row(question, expected_tools, expected_facts)``: an evaluation row whose
   expectations reach the judges that use them.
4. ``evaluate_agent(agent, rows, judge_model)``: the evaluation.
5. ``chunk_relevance(trace_id)``: the per-document relevance verdicts, read back.

MLflow APIs practised: ``mlflow.trace(span_type=SpanType.RETRIEVER)``,
``mlflow.genai.scorers`` (``ToolCallCorrectness``, ``ToolCallEfficiency``,
``RetrievalRelevance``, ``RetrievalSufficiency``), ``mlflow.genai.evaluate``,
``mlflow.get_trace`` and the trace's assessments.

Done looks like this: in the UI, every evaluated run carries a verdict from each
of the four judges (source ``LLM_JUDGE``), one ``retrieval_relevance`` per
retrieved document, and the row's expectations.

Run the checks: ``uv run pytest exercises/module_06/test_ex09_agent_judges.py``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import SpanType  # noqa: F401
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import (  # noqa: F401
    RetrievalRelevance,
    RetrievalSufficiency,
    ToolCallCorrectness,
    ToolCallEfficiency,
)
from mlflow.genai.scorers.base import Scorer

from fixtures.agent_traces import rank_docs as _rank  # noqa: F401 - given, see retrieve

JUDGE_NAMES = (
    "tool_call_correctness",
    "tool_call_efficiency",
    "retrieval_relevance",
    "retrieval_sufficiency",
)
RELEVANCE = "retrieval_relevance"


def retrieve(query: str) -> list[dict]:
    """The documents that match ``query``, best first, traced as a RETRIEVER span.

    ``_rank(query)`` (given) returns ``(doc_uri, text)`` pairs, best first. Return one
    document per pair, ``{"page_content": text, "metadata": {"doc_uri": doc_uri}}``, in
    that order: the span's outputs are these documents, which is what the retrieval
    judges read (a span of another type, or documents without ``page_content``, leave
    them nothing to judge).
    """
    # TODO: trace this function as a RETRIEVER span (a decorator) and return one
    #       {"page_content": ..., "metadata": {"doc_uri": ...}} per pair of _rank(query).
    raise NotImplementedError("retrieve: not written yet (see the TODO above)")


def agent_judges(judge_model: str) -> list[Scorer]:
    """MLflow's four built-in agent judges, each asking ``judge_model`` (a model URI such
    as ``"openai:/gpt-4o-mini"``), with their default names ``JUDGE_NAMES``:

    - ``ToolCallCorrectness``: were the right tools called (compared with the row's
      ``expected_tool_calls``)?
    - ``ToolCallEfficiency``: were there redundant tool calls?
    - ``RetrievalRelevance``: is each retrieved document relevant to the question?
    - ``RetrievalSufficiency``: do the retrieved documents hold the row's ``expected_facts``?
    """
    # TODO: build the four judges of mlflow.genai.scorers, passing model=judge_model to each.
    raise NotImplementedError("agent_judges: not written yet (see the TODO above)")


def eval_row(question: str, expected_tools: list[str], expected_facts: list[str]) -> dict:
    """One evaluation row for the agent.

    ``{"inputs": {"question": question}, "expectations": {"expected_tool_calls":
    [{"name": tool} for each of expected_tools, in order], "expected_facts":
    expected_facts}}``: the inputs are the agent's keyword arguments; the expectation
    names are the ones the judges read (``expected_tool_calls`` by ToolCallCorrectness,
    a list of ``{"name", "arguments"?}`` dicts; ``expected_facts`` by
    RetrievalSufficiency, a list of strings).
    """
    # TODO: return the row: inputs for the agent, expectations named as the judges read them.
    raise NotImplementedError("eval_row: not written yet (see the TODO above)")


def evaluate_agent(
    agent: Callable[..., str], rows: list[dict], judge_model: str
) -> EvaluationResult:
    """Run ``agent`` on every row (``predict_fn``) and judge each run with
    ``agent_judges(judge_model)``. Returns the evaluation result: its metrics are
    ``<judge name>/mean``, plus ``retrieval_relevance/precision/mean``.
    """
    # TODO: mlflow.genai.evaluate with predict_fn=agent and the judges as scorers.
    raise NotImplementedError("evaluate_agent: not written yet (see the TODO above)")


def chunk_relevance(trace_id: str) -> list[Any]:
    """The per-document verdicts of ``RELEVANCE`` on a judged trace, read from the store.

    RetrievalRelevance logs one ``RELEVANCE`` feedback per retrieved document (its
    metadata ``chunk_index`` is the document's position in the retriever's output) and
    one summary feedback ``retrieval_relevance/precision`` (the share of "yes"). Return
    the per-document values ordered by ``chunk_index`` (the summary left out); ``[]``
    when the trace has none.
    """
    # TODO: get the trace, keep the RELEVANCE feedbacks without error, sort them by their
    #       metadata's chunk_index and return their values.
    raise NotImplementedError("chunk_relevance: not written yet (see the TODO above)")
