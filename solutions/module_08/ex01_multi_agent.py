"""Reference solution for module_08/ex01_multi_agent: a coordinator and three sub-agents."""

from __future__ import annotations

import ast
import operator
import re

import mlflow
import openai
from mlflow.entities import Document, SpanType, Trace

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
    if _find_expression(part):
        return CALCULATOR_AGENT
    if set(re.findall(r"[a-z]+", part.lower())) & set(SEARCH_WORDS):
        return SEARCH_AGENT
    return RAG_AGENT


class MultiAgentSystem:
    """A coordinator that splits a question into parts and hands each part to a
    specialised sub-agent; everything it does is one trace."""

    def __init__(self, documents: dict[str, str], model: str = LLM_MODEL) -> None:
        self.documents = documents  # file name -> text, the RAG agent's knowledge
        self.model = model  # the chat model the RAG agent asks

    @mlflow.trace(name=CALCULATOR_AGENT, span_type=SpanType.AGENT)
    def calculator_agent(self, part: str) -> str:
        """Answer an arithmetic part as ``"<expression> = <value>"`` (``"12 * 7 = 84"``).

        Its span is an AGENT span named ``CALCULATOR_AGENT`` with the part as its
        input ``part``; the computation is a TOOL span named ``"calculator"`` under
        it, with the expression as input and the value as output.
        """
        expression = _find_expression(part)
        if expression is None:
            return "I found no arithmetic expression to compute."
        with mlflow.start_span(name="calculator", span_type=SpanType.TOOL) as tool:
            tool.set_inputs({"expression": expression})
            value = _evaluate(expression)
            tool.set_outputs(value)
        return f"{expression} = {_format_number(value)}"

    @mlflow.trace(name=SEARCH_AGENT, span_type=SpanType.AGENT)
    def search_agent(self, part: str) -> str:
        """Answer from a web search: the first snippet ``_web_search`` finds, or
        ``"No search results."``.

        Its span is an AGENT span named ``SEARCH_AGENT`` (input ``part``), with the
        search as a TOOL span named ``"web_search"`` under it.
        """
        with mlflow.start_span(name="web_search", span_type=SpanType.TOOL) as tool:
            tool.set_inputs({"query": part})
            results = _web_search(part)
            tool.set_outputs(results)
        return results[0] if results else "No search results."

    @mlflow.trace(name=RAG_AGENT, span_type=SpanType.AGENT)
    def rag_agent(self, part: str) -> str:
        """Answer from the documents: retrieve the two best ones (``_rank_documents``),
        then ask the chat model ``self.model`` with their text and the question, and
        return its reply.

        Its span is an AGENT span named ``RAG_AGENT`` (input ``part``). Under it: a
        RETRIEVER span whose outputs are the retrieved documents (``Document``s
        whose ``metadata["doc_uri"]`` is the file name), and the chat model call
        (an LLM or CHAT_MODEL span, e.g. from ``mlflow.openai.autolog()``).
        """
        with mlflow.start_span(name="retrieve", span_type=SpanType.RETRIEVER) as retriever:
            retriever.set_inputs({"query": part})
            names = _rank_documents(part, self.documents)
            found = [
                Document(page_content=self.documents[name], metadata={"doc_uri": name})
                for name in names
            ]
            retriever.set_outputs(found)
        context = "\n\n".join(doc.page_content for doc in found)
        reply = openai.OpenAI().chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": "Answer from this context only:\n" + context},
                {"role": "user", "content": part},
            ],
        )
        return reply.choices[0].message.content or ""

    @mlflow.trace(name=COORDINATOR, span_type=SpanType.AGENT)
    def coordinator(self, question: str) -> str:
        """Answer a question of one or more parts (``_split_parts``): ``route`` each
        part to its sub-agent, and return their answers joined by newlines, in the
        order of the parts.

        The whole exchange is ONE trace: its root is an AGENT span named
        ``COORDINATOR`` (input ``question``), and each sub-agent's AGENT span sits
        directly under it.
        """
        agents = {
            CALCULATOR_AGENT: self.calculator_agent,
            SEARCH_AGENT: self.search_agent,
            RAG_AGENT: self.rag_agent,
        }
        answers = [agents[route(part)](part) for part in _split_parts(question)]
        return "\n".join(answers)


def answered_by(trace: Trace) -> list[tuple[str, str]]:
    """Who answered what, read from a trace alone: ``(part, agent name)`` for every
    AGENT span directly under the root span, in the order they started. The part
    is the span's input ``part``; the agent name is the span's name.
    """
    root = next(span for span in trace.data.spans if span.parent_id is None)
    agents = [
        span
        for span in trace.data.spans
        if span.parent_id == root.span_id and span.span_type == SpanType.AGENT
    ]
    agents.sort(key=lambda span: span.start_time_ns)
    return [((span.inputs or {}).get("part", ""), span.name) for span in agents]


# The RAG agent's model call becomes a CHAT_MODEL span inside the open agent span.
mlflow.openai.autolog()
