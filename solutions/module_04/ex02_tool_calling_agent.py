"""Reference solution for module_04/ex02_tool_calling_agent: a LangChain agent with tools,
traced by autolog, and tool usage measured from its traces."""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

import mlflow
from langchain.agents import create_agent
from langchain.agents.middleware import wrap_tool_call
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, tool
from mlflow.entities import SpanType

from fixtures.data import load_corpus

SYSTEM_PROMPT = (
    "You answer questions about MLflow. Search the documents, read the ones that look "
    "relevant, use the calculator for arithmetic, and say which document you used."
)


@dataclass
class ToolUsage:
    """How one tool fared across the traces of an experiment."""

    calls: int  # TOOL spans with this name
    failures: int  # ... of which ended with status ERROR
    success_rate: float  # (calls - failures) / calls


# --- ready-made tool logic (the exercise is to turn it into agent tools) -----------------

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
}


def _calculate(expression: str) -> str:
    """The value of an arithmetic expression, as text; ValueError if it is not arithmetic."""

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.operand))
        raise ValueError(f"not arithmetic: {ast.unparse(node)!r}")

    try:
        return str(value(ast.parse(expression, mode="eval").body))
    except (SyntaxError, ZeroDivisionError) as err:
        raise ValueError(f"cannot calculate {expression!r}: {err}") from err


def _search_corpus(query: str) -> list[str]:
    """Names of the corpus documents that mention every word of ``query``."""
    words = query.lower().split()
    return [name for name, text in load_corpus().items() if all(w in text.lower() for w in words)]


def _read_corpus(name: str) -> str:
    """The text of the corpus document ``name``; KeyError if there is none."""
    corpus = load_corpus()
    if name not in corpus:
        raise KeyError(f"no document named {name!r}; try one of {sorted(corpus)}")
    return corpus[name]


# --- the exercise ---------------------------------------------------------------------------


def make_tools() -> list[BaseTool]:
    """The agent's three tools, as LangChain tools named ``calculator``,
    ``search_documents`` and ``read_document``.

    - ``calculator(expression: str) -> str``: ``_calculate``;
    - ``search_documents(query: str) -> list[str]``: ``_search_corpus``;
    - ``read_document(name: str) -> str``: ``_read_corpus``.

    Each tool's docstring is what the model reads to decide when to call it.
    A tool that fails raises its exception (so the TOOL span records an ERROR);
    the agent, not the tool, turns it into a message for the model.
    """

    @tool
    def calculator(expression: str) -> str:
        """Evaluate an arithmetic expression such as '(2 + 3) * 4'."""
        return _calculate(expression)

    @tool
    def search_documents(query: str) -> list[str]:
        """Find the documents that mention every word of the query; returns their names."""
        return _search_corpus(query)

    @tool
    def read_document(name: str) -> str:
        """Read a whole document by the name that search_documents returned."""
        return _read_corpus(name)

    return [calculator, search_documents, read_document]


@wrap_tool_call
def _errors_as_messages(request, handler):
    """Middleware around every tool call: a tool's exception becomes an error message.

    The tool's span has already recorded the exception (ERROR) by the time we catch it.
    """
    try:
        return handler(request)
    except Exception as err:  # noqa: BLE001 - any tool failure is news for the model
        return ToolMessage(
            content=f"Error: {type(err).__name__}: {err}",
            tool_call_id=request.tool_call["id"],
            name=request.tool_call["name"],
            status="error",
        )


def build_agent(model: BaseChatModel):
    """A LangChain 1.x agent (``langchain.agents.create_agent``) over ``make_tools()``,
    with ``SYSTEM_PROMPT``, that MLflow traces.

    Turn on MLflow's LangChain autologging, so that every model call becomes a
    CHAT_MODEL span and every tool call a TOOL span. When a tool raises, the agent
    carries on: the model gets the error as a tool message (status ``"error"``)
    and decides what to do next.
    """
    mlflow.langchain.autolog()
    return create_agent(
        model,
        tools=make_tools(),
        system_prompt=SYSTEM_PROMPT,
        middleware=[_errors_as_messages],
    )


@mlflow.trace(name="agent", span_type=SpanType.AGENT)
def ask(agent, question: str) -> str:
    """Ask the agent one question; return the text of its final message.

    Each call is one trace whose root span has type AGENT (LangChain's autologging
    makes CHAIN, CHAT_MODEL and TOOL spans, never AGENT), with the question as its
    input and the answer as its output.
    """
    result = agent.invoke({"messages": [{"role": "user", "content": question}]})
    return result["messages"][-1].content


def tool_usage(experiment_id: str | None = None) -> dict[str, ToolUsage]:
    """How often each tool was called and how often it failed, read from the traces of
    ``experiment_id`` (default: the current experiment).

    Counts every TOOL span by its name; a call failed when its span's status is
    ERROR. Tools that were never called are not in the result.
    """
    locations = [experiment_id] if experiment_id else None
    traces = mlflow.search_traces(locations=locations, return_type="list")
    counts: dict[str, list[int]] = {}
    for trace in traces:
        for span in trace.data.spans:
            if span.span_type != SpanType.TOOL:
                continue
            calls_failures = counts.setdefault(span.name, [0, 0])
            calls_failures[0] += 1
            if span.status.status_code == "ERROR":
                calls_failures[1] += 1
    return {
        name: ToolUsage(calls=calls, failures=failures, success_rate=(calls - failures) / calls)
        for name, (calls, failures) in counts.items()
    }
