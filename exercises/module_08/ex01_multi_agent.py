"""Exercise 1: a multi-agent system, traced as one story.

A coordinator agent splits a question into parts and hands each part to a
specialist: a calculator agent for arithmetic, a search agent for news and
"what is the latest ..." questions, and a RAG agent that answers from
documents with a chat model. It then joins their answers. In production you
want to open ONE trace and see the whole exchange: which agent took which
part, what tools it used, what the model was asked.

Build, in ``MultiAgentSystem`` and beside it:

1. ``route(part)``: the rule that picks the sub-agent for a part.
2. ``calculator_agent``, ``search_agent``, ``rag_agent``: each sub-agent is an
   AGENT span named after it (``CALCULATOR_AGENT`` ...) with its tool work
   nested inside: a TOOL span ``calculator``, a TOOL span ``web_search``, a
   RETRIEVER span and the chat model call.
3. ``coordinator(question)``: an AGENT span named ``COORDINATOR`` at the root
   of the trace; every sub-agent span sits directly under it.
4. ``answered_by(trace)``: read back, from any trace, which agent answered
   which part.

The tools are ready-made private helpers (``_find_expression``, ``_evaluate``,
``_web_search``, ``_rank_documents``, ``_split_parts``): your job is the
agents, their spans, and the coordination.

MLflow APIs practised: ``@mlflow.trace(name=..., span_type="AGENT")`` (also on
methods), ``mlflow.start_span(name=..., span_type=...)`` with ``set_inputs`` /
``set_outputs``, ``mlflow.entities.Document`` for retriever outputs,
``mlflow.openai.autolog()``, and reading a ``Trace``'s spans
(``trace.data.spans``: ``name``, ``span_type``, ``parent_id``, ``inputs``).

LangGraph and LangChain autologging never emit AGENT spans (graphs, nodes and
agents all show up as CHAIN): for an agent to appear as an agent, give its
span the type yourself.

The RAG agent's chat model is the OpenAI client, configured the usual way
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``); the tests point it at a fake
server.

Done looks like this: in the UI one trace per question, the coordinator at the
root and one agent span per part under it, each with its tools inside.

Run the checks: ``uv run pytest exercises/module_08/test_ex01_multi_agent.py``
"""

from __future__ import annotations

import ast
import operator
import re

import mlflow  # noqa: F401 - you will need these
import openai  # noqa: F401 - the RAG agent's chat model client
from mlflow.entities import Document, SpanType, Trace  # noqa: F401

COORDINATOR = "coordinator"
RAG_AGENT = "rag_agent"
CALCULATOR_AGENT = "calculator_agent"
SEARCH_AGENT = "search_agent"
SEARCH_WORDS = ("latest", "news", "today", "current")
LLM_MODEL = "gpt-4o-mini"

# --- ready-made helpers (the tools themselves are not the point here) ---------------

_EXPRESSION = re.compile(r"\d+(?:\.\d+)?(?:\s*[-+*/]\s*\d+(?:\.\d+)?)+")
_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_SEARCH_RESULTS = {
    "mlflow": "MLflow 3 is the current major release; it adds LoggedModels and GenAI tracing.",
    "spark": "Apache Spark 4 is the current release line, with Spark Connect on by default.",
    "python": "Python 3.13 is the newest stable Python release.",
}


def _split_parts(question: str) -> list[str]:
    """The parts of a question: its sentences, each ending with '?', '.' or '!'."""
    return [p.strip() for p in re.split(r"(?<=[?.!])\s+", question.strip()) if p.strip()]


def _find_expression(text: str) -> str | None:
    """The first arithmetic expression in ``text`` (``"12 * 7"``), or None."""
    match = _EXPRESSION.search(text)
    return match.group(0) if match else None


def _evaluate(expression: str) -> float:
    """The value of an arithmetic expression of numbers and + - * / (no eval())."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"not an arithmetic expression: {expression!r}")

    return walk(ast.parse(expression, mode="eval").body)


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _web_search(query: str) -> list[str]:
    """A stand-in for a web search API: canned snippets whose topic word is in the query."""
    words = set(re.findall(r"[a-z]+", query.lower()))
    return [snippet for topic, snippet in _SEARCH_RESULTS.items() if topic in words]


def _rank_documents(query: str, documents: dict[str, str], k: int = 2) -> list[str]:
    """The names of the ``k`` documents sharing most words with ``query``."""
    wanted = {w for w in re.findall(r"[a-z]+", query.lower()) if len(w) > 3}

    def shared(name: str) -> int:
        return len(wanted & set(re.findall(r"[a-z]+", documents[name].lower())))

    return sorted(documents, key=lambda name: (-shared(name), name))[:k]


# --- the exercise ---------------------------------------------------------------------


def route(part: str) -> str:
    """The sub-agent for one part of a question.

    - ``CALCULATOR_AGENT`` when the part holds an arithmetic expression (two or
      more numbers joined by + - * /, e.g. ``"12 * 7"``);
    - else ``SEARCH_AGENT`` when it asks for news or the current state of things
      (any word of ``SEARCH_WORDS``, in any case);
    - else ``RAG_AGENT``.
    """
    # TODO: return CALCULATOR_AGENT, SEARCH_AGENT or RAG_AGENT by the rule above (_find_expression
    #       finds an arithmetic expression; compare words case-insensitively).
    raise NotImplementedError("route: not written yet (see the TODO above)")


class MultiAgentSystem:
    """A coordinator that splits a question into parts and hands each part to a
    specialised sub-agent; everything it does is one trace."""

    def __init__(self, documents: dict[str, str], model: str = LLM_MODEL) -> None:
        self.documents = documents  # file name -> text, the RAG agent's knowledge
        self.model = model  # the chat model the RAG agent asks

    def calculator_agent(self, part: str) -> str:
        """Answer an arithmetic part as ``"<expression> = <value>"`` (``"12 * 7 = 84"``).

        Its span is an AGENT span named ``CALCULATOR_AGENT`` with the part as its
        input ``part``; the computation is a TOOL span named ``"calculator"`` under
        it, with the expression as input and the value as output.
        """
        # TODO: trace this method as an AGENT span named CALCULATOR_AGENT; find the expression,
        #       compute it with _evaluate inside a TOOL span named "calculator" (inputs and outputs
        #       set), and return "<expression> = <value>" (_format_number formats the value).
        raise NotImplementedError("calculator_agent: not written yet (see the TODO above)")

    def search_agent(self, part: str) -> str:
        """Answer from a web search: the first snippet ``_web_search`` finds, or
        ``"No search results."``.

        Its span is an AGENT span named ``SEARCH_AGENT`` (input ``part``), with the
        search as a TOOL span named ``"web_search"`` under it.
        """
        # TODO: trace this method as an AGENT span named SEARCH_AGENT; call _web_search inside a
        #       TOOL span named "web_search" and return the first snippet (or "No search
        #       results.").
        raise NotImplementedError("search_agent: not written yet (see the TODO above)")

    def rag_agent(self, part: str) -> str:
        """Answer from the documents: retrieve the two best ones (``_rank_documents``),
        then ask the chat model ``self.model`` with their text and the question, and
        return its reply.

        Its span is an AGENT span named ``RAG_AGENT`` (input ``part``). Under it: a
        RETRIEVER span whose outputs are the retrieved documents (``Document``s
        whose ``metadata["doc_uri"]`` is the file name), and the chat model call
        (an LLM or CHAT_MODEL span, e.g. from ``mlflow.openai.autolog()``).
        """
        # TODO: trace this method as an AGENT span named RAG_AGENT; inside a RETRIEVER span, pick
        #       documents with _rank_documents and output them as Documents (metadata doc_uri);
        #       then ask the chat model with their text and the part, and return its reply.
        raise NotImplementedError("rag_agent: not written yet (see the TODO above)")

    def coordinator(self, question: str) -> str:
        """Answer a question of one or more parts (``_split_parts``): ``route`` each
        part to its sub-agent, and return their answers joined by newlines, in the
        order of the parts.

        The whole exchange is ONE trace: its root is an AGENT span named
        ``COORDINATOR`` (input ``question``), and each sub-agent's AGENT span sits
        directly under it.
        """
        # TODO: trace this method as an AGENT span named COORDINATOR; split the question with
        #       _split_parts, call the sub-agent that route() picks for each part, join the
        #       answers.
        raise NotImplementedError("coordinator: not written yet (see the TODO above)")


def answered_by(trace: Trace) -> list[tuple[str, str]]:
    """Who answered what, read from a trace alone: ``(part, agent name)`` for every
    AGENT span directly under the root span, in the order they started. The part
    is the span's input ``part``; the agent name is the span's name.
    """
    # TODO: find the root span, keep the AGENT spans whose parent is the root, sort them by
    #       start_time_ns, and return (inputs["part"], name) for each.
    raise NotImplementedError("answered_by: not written yet (see the TODO above)")
