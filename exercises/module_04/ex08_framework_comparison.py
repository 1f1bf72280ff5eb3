"""Exercise 8: the same agent in PydanticAI and in smolagents, compared by their traces.

LangChain is not the only way to build an agent, and MLflow traces a dozen
frameworks with one ``autolog()`` call each. Their traces land in the same store,
are searched with the same filters and judged by the same scorers, but each
autologger decides for itself what becomes a span, what it is called, which span
type it gets and where the token usage goes. Before you compare two frameworks
(or trust a dashboard built on them), look at their span trees.

Build one small support agent twice, with the same system prompt, the same model
(reached through the OpenAI chat completions API: ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY``, the kit's fake server in the tests) and the same two tools
(``calculator`` and ``lookup_document``, whose logic is given: ``_calculate`` and
``_lookup``):

1. ``build_pydantic_ai_agent`` / ``ask_pydantic_ai``: a PydanticAI ``Agent``,
   traced by ``mlflow.pydantic_ai.autolog()``.
2. ``build_smolagents_agent`` / ``ask_smolagents``: a smolagents
   ``ToolCallingAgent``, traced by ``mlflow.smolagents.autolog()``, with the gaps
   of that integration closed (its docstring says which).
3. ``compare_frameworks``: what the traces of each framework add up to: runs,
   spans, model calls, tool calls by name, tokens, latency.

Import ``pydantic_ai`` and ``smolagents`` inside the functions that use them (as
below): each takes about a second to import.

MLflow APIs practised: ``mlflow.pydantic_ai.autolog``, ``mlflow.smolagents.autolog``,
``mlflow.openai.autolog``, ``mlflow.set_trace_tag``, ``mlflow.get_last_active_trace_id``,
``mlflow.get_current_active_span``, ``mlflow.search_traces``, ``trace.info.token_usage``.

Done looks like this: in the UI, each question is one trace tagged with the
framework that answered it; the PydanticAI traces show AGENT, LLM and TOOL spans
named after the tools, the smolagents traces an AGENT span with every model call
(CHAT_MODEL, with its tokens) and every tool call under it; and
``compare_frameworks()`` tells the two apart.

Run the checks: ``uv run pytest exercises/module_04/test_ex08_framework_comparison.py``
"""

from __future__ import annotations

import ast
import operator
import re
from collections import defaultdict  # noqa: F401 - handy to group by framework
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import Span, SpanType, Trace  # noqa: F401

from fixtures.data import load_corpus

if TYPE_CHECKING:  # import them inside your functions: each costs about a second to import
    from pydantic_ai import Agent
    from smolagents import ToolCallingAgent

MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = (
    "You are a support agent for MLflow users. Look facts up with lookup_document, "
    "use the calculator for arithmetic, and answer in one or two sentences."
)
MAX_STEPS = 5  # smolagents: at most this many model turns per question
FRAMEWORK_TAG = "framework"  # the trace tag that says which framework answered
PYDANTIC_AI = "pydantic_ai"
SMOLAGENTS = "smolagents"
MODEL_SPAN_TYPES = (SpanType.LLM, SpanType.CHAT_MODEL)


@dataclass
class FrameworkStats:
    """What the traces of one framework add up to (see ``compare_frameworks``)."""

    runs: int = 0  # traces tagged with this framework
    spans: int = 0  # spans in those traces
    llm_calls: int = 0  # model calls (outermost LLM / CHAT_MODEL spans)
    tool_calls: dict[str, int] = field(default_factory=dict)  # TOOL spans by tool name
    total_tokens: int = 0  # sum of the traces' token usage (0 where none was recorded)
    mean_latency_ms: float = 0.0  # mean trace execution time


# --- ready-made tool logic (your job is to give it to both frameworks) ------------------

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


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_]+", text.lower()) if len(w) > 2}


def _lookup(query: str) -> str:
    """``'<document name>: <paragraph>'`` for the corpus paragraph sharing the most words
    with ``query`` (ties: the first in name order), or ``'no document matches ...'``."""
    wanted = _words(query)
    best, best_score = "", 0
    for name, text in load_corpus().items():
        for paragraph in text.split("\n\n"):
            score = len(wanted & _words(paragraph))
            if score > best_score:
                best, best_score = f"{name}: {' '.join(paragraph.split())}", score
    return best or f"no document matches {query!r}"


# --- PydanticAI ----------------------------------------------------------------------------


def build_pydantic_ai_agent(model_name: str = MODEL) -> Agent:
    """A ``pydantic_ai.Agent`` with ``SYSTEM_PROMPT`` and two tools, traced by MLflow.

    - the model: ``OpenAIChatModel(model_name)`` (the chat completions API; the string
      ``"openai:..."`` would pick the Responses API instead), with its provider's default
      base URL and key: ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``;
    - the tools, named ``calculator(expression: str) -> str`` (``_calculate``) and
      ``lookup_document(query: str) -> str`` (``_lookup``); a bad expression goes back
      to the model as a retry (``ModelRetry``), not as a crash of the run;
    - ``mlflow.pydantic_ai.autolog()`` is on, so each ``run_sync`` is one trace: AGENT
      spans for the run, an LLM span per model request, a TOOL span per tool call.
    """
    # TODO: import Agent, ModelRetry from pydantic_ai and OpenAIChatModel from
    #       pydantic_ai.models.openai here; turn on mlflow.pydantic_ai.autolog(); two tool
    #       functions with docstrings; return Agent(model, system_prompt=..., tools=[...]).
    raise NotImplementedError("build_pydantic_ai_agent: not written yet (see the TODO above)")


def ask_pydantic_ai(agent: Agent, question: str) -> str:
    """Ask the PydanticAI agent one question (``agent.run_sync``); return its answer text.

    The call makes exactly one trace; tag it ``framework`` = ``"pydantic_ai"``
    (``FRAMEWORK_TAG``, ``PYDANTIC_AI``).
    """
    # TODO: agent.run_sync(question).output; then tag the trace the run made.
    raise NotImplementedError("ask_pydantic_ai: not written yet (see the TODO above)")


# --- smolagents ----------------------------------------------------------------------------


def build_smolagents_agent(model_name: str = MODEL) -> ToolCallingAgent:
    """A smolagents ``ToolCallingAgent`` with the same prompt and tools, traced by MLflow.

    - a ``ToolCallingAgent`` (the model calls tools by name through the API's tool calls;
      a ``CodeAgent`` would run Python code that the model writes), with
      ``instructions=SYSTEM_PROMPT``, ``max_steps=MAX_STEPS`` and no console output;
    - the model: ``smolagents.OpenAIModel(model_name)``, whose OpenAI client reads
      ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``;
    - the tools, named ``calculator`` and ``lookup_document`` as for PydanticAI; a bad
      expression is *returned* as ``"Error: <message>"`` for the model to read: a smolagents
      tool that raises makes MLflow 3.17.2 stop tracing the rest of that run (its autolog
      session is marked failed), so later model calls and tools would be missing;
    - ``mlflow.smolagents.autolog()`` is on (an AGENT span per run, a TOOL span per tool
      call), and so is ``mlflow.openai.autolog()``: in smolagents 1.23-1.26 the agent calls
      ``model.generate()``, which smolagents' autolog does not patch, so without the OpenAI
      autolog the trace would have no model call and no token usage;
    - smolagents' autolog names every TOOL span after the tool's class
      (``SimpleTool.__call__``) and records no tool name, so each tool records its own name
      on its span: the attribute ``function`` = ``{"name": "<tool name>"}`` (the key
      MLflow's smolagents integration means to write), set on
      ``mlflow.get_current_active_span()``.
    """
    # TODO: import OpenAIModel, ToolCallingAgent and tool from smolagents here; the two
    #       autologs; two @tool functions (each docstring needs an Args: section) that
    #       write their name on the active span; return ToolCallingAgent(...).
    raise NotImplementedError("build_smolagents_agent: not written yet (see the TODO above)")


def ask_smolagents(agent: ToolCallingAgent, question: str) -> str:
    """Ask the smolagents agent one question (``agent.run``); return its answer as text.

    The call makes exactly one trace; tag it ``framework`` = ``"smolagents"``.
    """
    # TODO: agent.run(question); then tag the trace the run made; return the answer as str.
    raise NotImplementedError("ask_smolagents: not written yet (see the TODO above)")


# --- the comparison, from the traces ---------------------------------------------------------


def tool_name(span: Span) -> str:
    """The name of the tool a TOOL span called: the ``name`` in its ``function`` attribute
    when it has one (smolagents names the span after the tool's class, e.g.
    ``SimpleTool.__call__``, and our smolagents tools record their name there), else the
    span's name (PydanticAI names the span after the tool). smolagents' own
    ``final_answer`` tool records nothing: its spans are named ``FinalAnswerTool.__call__``.
    """
    # TODO: the function attribute's name when there is one, else the span's name.
    raise NotImplementedError("tool_name: not written yet (see the TODO above)")


def compare_frameworks(experiment_id: str | None = None) -> dict[str, FrameworkStats]:
    """Sum up the traces of ``experiment_id`` (default: the current experiment) per
    framework, the value of their ``framework`` tag; traces without it are left out.

    For each framework: ``runs`` (traces), ``spans`` (all spans), ``llm_calls`` (spans of
    type LLM or CHAT_MODEL with no such span among their ancestors, so a model call
    traced twice by two autologgers counts once), ``tool_calls`` (TOOL spans counted by
    ``tool_name``; smolagents' own final answer counts as ``FinalAnswerTool.__call__``),
    ``total_tokens`` (the sum of ``trace.info.token_usage["total_tokens"]``, 0 for a
    trace without usage) and ``mean_latency_ms`` (the mean of
    ``trace.info.execution_time_ms``).
    """
    # TODO: mlflow.search_traces(locations=..., return_type="list"); group by the
    #       framework tag; count spans, model calls (outermost LLM/CHAT_MODEL), tools by
    #       tool_name(span), tokens and latency.
    raise NotImplementedError("compare_frameworks: not written yet (see the TODO above)")
