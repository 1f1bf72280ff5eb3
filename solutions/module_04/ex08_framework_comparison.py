"""Reference solution for module_04/ex08_framework_comparison: one support agent built twice,
with PydanticAI and with smolagents, both traced by MLflow's autologging, and compared by
what their traces say.

Both agents have the same two tools (``calculator`` and ``lookup_document``), the same
system prompt and the same model, reached through the OpenAI chat completions API at
``OPENAI_BASE_URL`` with ``OPENAI_API_KEY`` (the kit's fake server in the tests, OpenAI or
any OpenAI-compatible server in real life).
"""

from __future__ import annotations

import ast
import operator
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mlflow
from mlflow.entities import Span, SpanType, Trace

from fixtures.data import load_corpus

if TYPE_CHECKING:  # imported where they are used: each costs about a second to import
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


# --- ready-made tool logic (the exercise is to give it to both frameworks) ---------------

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
    from pydantic_ai import Agent, ModelRetry
    from pydantic_ai.models.openai import OpenAIChatModel

    mlflow.pydantic_ai.autolog(silent=True)  # silent: no warning about the missing MCP extra

    def calculator(expression: str) -> str:
        """Evaluate an arithmetic expression such as '(2 + 3) * 4'."""
        try:
            return _calculate(expression)
        except ValueError as err:
            raise ModelRetry(str(err)) from err

    def lookup_document(query: str) -> str:
        """Find the documentation paragraph that best matches the query."""
        return _lookup(query)

    return Agent(
        OpenAIChatModel(model_name),
        system_prompt=SYSTEM_PROMPT,
        tools=[calculator, lookup_document],
    )


def ask_pydantic_ai(agent: Agent, question: str) -> str:
    """Ask the PydanticAI agent one question (``agent.run_sync``); return its answer text.

    The call makes exactly one trace; tag it ``framework`` = ``"pydantic_ai"``
    (``FRAMEWORK_TAG``, ``PYDANTIC_AI``).
    """
    answer = agent.run_sync(question).output
    mlflow.set_trace_tag(mlflow.get_last_active_trace_id(), FRAMEWORK_TAG, PYDANTIC_AI)
    return answer


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
    from smolagents import OpenAIModel, ToolCallingAgent, tool
    from smolagents.monitoring import LogLevel

    mlflow.smolagents.autolog()
    mlflow.openai.autolog()

    @tool
    def calculator(expression: str) -> str:
        """Evaluate an arithmetic expression such as '(2 + 3) * 4'.

        Args:
            expression: the arithmetic expression to evaluate.
        """
        _record_tool_name("calculator")
        try:
            return _calculate(expression)
        except ValueError as err:
            return f"Error: {err}"

    @tool
    def lookup_document(query: str) -> str:
        """Find the documentation paragraph that best matches the query.

        Args:
            query: a few words about what to look up.
        """
        _record_tool_name("lookup_document")
        return _lookup(query)

    return ToolCallingAgent(
        tools=[calculator, lookup_document],
        model=OpenAIModel(model_name),
        instructions=SYSTEM_PROMPT,
        max_steps=MAX_STEPS,
        verbosity_level=LogLevel.OFF,
    )


def _record_tool_name(name: str) -> None:
    """Write the tool's name on the TOOL span that smolagents' autolog opened around it."""
    span = mlflow.get_current_active_span()
    if span is not None:
        span.set_attribute("function", {"name": name})


def ask_smolagents(agent: ToolCallingAgent, question: str) -> str:
    """Ask the smolagents agent one question (``agent.run``); return its answer as text.

    The call makes exactly one trace; tag it ``framework`` = ``"smolagents"``.
    """
    answer = agent.run(question)
    mlflow.set_trace_tag(mlflow.get_last_active_trace_id(), FRAMEWORK_TAG, SMOLAGENTS)
    return str(answer)


# --- the comparison, from the traces ---------------------------------------------------------


def tool_name(span: Span) -> str:
    """The name of the tool a TOOL span called: the ``name`` in its ``function`` attribute
    when it has one (smolagents names the span after the tool's class, e.g.
    ``SimpleTool.__call__``, and our smolagents tools record their name there), else the
    span's name (PydanticAI names the span after the tool). smolagents' own
    ``final_answer`` tool records nothing: its spans are named ``FinalAnswerTool.__call__``.
    """
    function = span.get_attribute("function")
    if isinstance(function, dict) and function.get("name"):
        return function["name"]
    return span.name


def _is_model_call(span: Span, spans_by_id: dict[str, Span]) -> bool:
    """An LLM or CHAT_MODEL span with no LLM or CHAT_MODEL span above it (PydanticAI's
    LLM span and the OpenAI client's CHAT_MODEL span under it are one call)."""
    if span.span_type not in MODEL_SPAN_TYPES:
        return False
    parent = spans_by_id.get(span.parent_id)
    while parent is not None:
        if parent.span_type in MODEL_SPAN_TYPES:
            return False
        parent = spans_by_id.get(parent.parent_id)
    return True


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
    locations = [experiment_id] if experiment_id else None
    traces: list[Trace] = mlflow.search_traces(locations=locations, return_type="list")
    stats: dict[str, FrameworkStats] = {}
    latencies: dict[str, list[int]] = defaultdict(list)
    for trace in traces:
        framework = trace.info.tags.get(FRAMEWORK_TAG)
        if not framework:
            continue
        entry = stats.setdefault(framework, FrameworkStats())
        spans_by_id = {span.span_id: span for span in trace.data.spans}
        entry.runs += 1
        entry.spans += len(trace.data.spans)
        for span in trace.data.spans:
            if _is_model_call(span, spans_by_id):
                entry.llm_calls += 1
            if span.span_type == SpanType.TOOL:
                name = tool_name(span)
                entry.tool_calls[name] = entry.tool_calls.get(name, 0) + 1
        entry.total_tokens += (trace.info.token_usage or {}).get("total_tokens", 0)
        latencies[framework].append(trace.info.execution_time_ms or 0)
    for framework, entry in stats.items():
        entry.mean_latency_ms = sum(latencies[framework]) / len(latencies[framework])
    return stats
