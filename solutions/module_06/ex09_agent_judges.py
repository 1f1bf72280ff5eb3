"""Reference solution for module_06/ex09_agent_judges: MLflow's agent and RAG judges
(tool calls, retrieval) over the traces of a small support agent.

The agent (``fixtures.agent_traces.support_agent``) plans with a CHAT_MODEL span that
declares its tools, calls TOOL spans, and its ``search_docs`` tool calls *your*
retriever. MLflow's built-in judges read those spans:

- ``ToolCallCorrectness`` and ``ToolCallEfficiency``: the TOOL spans (name, inputs,
  outputs, exception) and the tools declared on the CHAT_MODEL span;
- ``RetrievalRelevance`` and ``RetrievalSufficiency``: the documents that the RETRIEVER
  span returned (``page_content`` and ``metadata.doc_uri``).

Done when every run of the agent carries a verdict from each judge, the retrieval
judges see each retrieved document, and the expectations reach the judges that use them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
from mlflow.entities import SpanType
from mlflow.genai.evaluation.entities import EvaluationResult
from mlflow.genai.scorers import (
    RetrievalRelevance,
    RetrievalSufficiency,
    ToolCallCorrectness,
    ToolCallEfficiency,
)
from mlflow.genai.scorers.base import Scorer

from fixtures.agent_traces import rank_docs as _rank  # given: (doc_uri, text), best first

JUDGE_NAMES = (
    "tool_call_correctness",
    "tool_call_efficiency",
    "retrieval_relevance",
    "retrieval_sufficiency",
)
RELEVANCE = "retrieval_relevance"


@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(query: str) -> list[dict]:
    """The documents that match ``query``, best first, traced as a RETRIEVER span.

    ``_rank(query)`` (given) returns ``(doc_uri, text)`` pairs, best first. Return one
    document per pair, ``{"page_content": text, "metadata": {"doc_uri": doc_uri}}``, in
    that order: the span's outputs are these documents, which is what the retrieval
    judges read (a span of another type, or documents without ``page_content``, leave
    them nothing to judge).
    """
    return [{"page_content": text, "metadata": {"doc_uri": uri}} for uri, text in _rank(query)]


def agent_judges(judge_model: str) -> list[Scorer]:
    """MLflow's four built-in agent judges, each asking ``judge_model`` (a model URI such
    as ``"openai:/gpt-4o-mini"``), with their default names ``JUDGE_NAMES``:

    - ``ToolCallCorrectness``: were the right tools called (compared with the row's
      ``expected_tool_calls``)?
    - ``ToolCallEfficiency``: were there redundant tool calls?
    - ``RetrievalRelevance``: is each retrieved document relevant to the question?
    - ``RetrievalSufficiency``: do the retrieved documents hold the row's ``expected_facts``?
    """
    return [
        ToolCallCorrectness(model=judge_model),
        ToolCallEfficiency(model=judge_model),
        RetrievalRelevance(model=judge_model),
        RetrievalSufficiency(model=judge_model),
    ]


def eval_row(question: str, expected_tools: list[str], expected_facts: list[str]) -> dict:
    """One evaluation row for the agent.

    ``{"inputs": {"question": question}, "expectations": {"expected_tool_calls":
    [{"name": tool} for each of expected_tools, in order], "expected_facts":
    expected_facts}}``: the inputs are the agent's keyword arguments; the expectation
    names are the ones the judges read (``expected_tool_calls`` by ToolCallCorrectness,
    a list of ``{"name", "arguments"?}`` dicts; ``expected_facts`` by
    RetrievalSufficiency, a list of strings).
    """
    return {
        "inputs": {"question": question},
        "expectations": {
            "expected_tool_calls": [{"name": tool} for tool in expected_tools],
            "expected_facts": list(expected_facts),
        },
    }


def evaluate_agent(
    agent: Callable[..., str], rows: list[dict], judge_model: str
) -> EvaluationResult:
    """Run ``agent`` on every row (``predict_fn``) and judge each run with
    ``agent_judges(judge_model)``. Returns the evaluation result: its metrics are
    ``<judge name>/mean``, plus ``retrieval_relevance/precision/mean``.
    """
    return mlflow.genai.evaluate(data=rows, predict_fn=agent, scorers=agent_judges(judge_model))


def chunk_relevance(trace_id: str) -> list[Any]:
    """The per-document verdicts of ``RELEVANCE`` on a judged trace, read from the store.

    RetrievalRelevance logs one ``RELEVANCE`` feedback per retrieved document (its
    metadata ``chunk_index`` is the document's position in the retriever's output) and
    one summary feedback ``retrieval_relevance/precision`` (the share of "yes"). Return
    the per-document values ordered by ``chunk_index`` (the summary left out); ``[]``
    when the trace has none.
    """
    trace = mlflow.get_trace(trace_id)
    chunks = [
        a
        for a in trace.info.assessments
        if a.name == RELEVANCE and a.feedback is not None and a.error is None
    ]
    chunks.sort(key=lambda a: int((a.metadata or {}).get("chunk_index", 0)))
    return [a.value for a in chunks]
