"""Exercise 2: a tool-calling agent with LangChain, traced by MLflow, and its tool usage.

An agent is a loop: the model reads the conversation and either answers or asks
for tool calls; the agent runs the tools, appends their results, and asks the
model again. LangChain 1.x builds that loop for you with
``langchain.agents.create_agent(model, tools=[...])``, and MLflow's LangChain
autologging records every step: CHAIN spans for the graph and its nodes,
CHAT_MODEL for each model call, TOOL for each tool call. It never makes an
AGENT span: wrap your entry point with ``@mlflow.trace(span_type="AGENT")``
so that each question is one trace with the agent at its root.

Build:

1. ``make_tools()``: three LangChain tools (``@tool`` from
   ``langchain_core.tools``) named ``calculator``, ``search_documents`` and
   ``read_document``, around the ready-made helpers below.
2. ``build_agent(model)``: autologging on, ``create_agent`` with those tools and
   ``SYSTEM_PROMPT``. When a tool raises, the agent must carry on: the model
   gets the error as a tool message and decides what to do. Let the tool raise
   (so its TOOL span is ERROR) and catch the exception around the tool call
   with a ``wrap_tool_call`` middleware (``langchain.agents.middleware``).
3. ``ask(agent, question)``: one question, one trace, an AGENT span at its root.
4. ``tool_usage(experiment_id)``: which tools the agent uses and how often they
   fail, computed from the traces alone (the learning plan's "measure which
   tools are most useful").

In the tests the model is a scripted fake chat model: it returns the tool
calls and answers written in the test, whatever it is asked.

MLflow APIs practised: ``mlflow.langchain.autolog()``, ``@mlflow.trace``,
``mlflow.search_traces``, ``Span.span_type`` / ``Span.status``.

Done looks like this: in the UI each question is one trace, agent (AGENT) at
the root, the model calls and tool calls under it; a failed tool call is red,
and the next model call shows the error message it was given.

Run the checks: ``uv run pytest exercises/module_04/test_ex02_tool_calling_agent.py``
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass

import mlflow  # noqa: F401
from langchain.agents import create_agent  # noqa: F401
from langchain.agents.middleware import wrap_tool_call  # noqa: F401
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import ToolMessage  # noqa: F401
from langchain_core.tools import BaseTool, tool  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401

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
    # TODO: define three small functions decorated with @tool (the function name becomes
    #       the tool name, the docstring its description) that call the helpers above,
    #       and return them in a list.
    raise NotImplementedError("make_tools: not written yet (see the TODO above)")


def build_agent(model: BaseChatModel):
    """A LangChain 1.x agent (``langchain.agents.create_agent``) over ``make_tools()``,
    with ``SYSTEM_PROMPT``, that MLflow traces.

    Turn on MLflow's LangChain autologging, so that every model call becomes a
    CHAT_MODEL span and every tool call a TOOL span. When a tool raises, the agent
    carries on: the model gets the error as a tool message (status ``"error"``)
    and decides what to do next.
    """
    # TODO: mlflow.langchain.autolog(); then create_agent(model, tools=..., system_prompt=...,
    #       middleware=[...]) with a @wrap_tool_call middleware that calls the handler and,
    #       when it raises, returns a ToolMessage(content=..., tool_call_id=..., status="error").
    raise NotImplementedError("build_agent: not written yet (see the TODO above)")


def ask(agent, question: str) -> str:
    """Ask the agent one question; return the text of its final message.

    Each call is one trace whose root span has type AGENT (LangChain's autologging
    makes CHAIN, CHAT_MODEL and TOOL spans, never AGENT), with the question as its
    input and the answer as its output.
    """
    # TODO: decorate with @mlflow.trace(span_type=SpanType.AGENT); invoke the agent with
    #       {"messages": [{"role": "user", "content": question}]} and return the content
    #       of the last message.
    raise NotImplementedError("ask: not written yet (see the TODO above)")


def tool_usage(experiment_id: str | None = None) -> dict[str, ToolUsage]:
    """How often each tool was called and how often it failed, read from the traces of
    ``experiment_id`` (default: the current experiment).

    Counts every TOOL span by its name; a call failed when its span's status is
    ERROR. Tools that were never called are not in the result.
    """
    # TODO: mlflow.search_traces(locations=..., return_type="list"); go through every span
    #       of every trace; count the TOOL spans per name, and those whose
    #       span.status.status_code is ERROR; build a ToolUsage per tool.
    raise NotImplementedError("tool_usage: not written yet (see the TODO above)")
