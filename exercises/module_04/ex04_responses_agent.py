"""Exercise 4: a ResponsesAgent that calls a tool, streams, and is logged as code.

``mlflow.pyfunc.ResponsesAgent`` is MLflow 3's standard shape for an agent you
deploy: it takes a request in the OpenAI *Responses* format
(``{"input": [{"role": "user", "content": "..."}]}``) and answers with
*output items*: ``message`` (text for the user), ``function_call`` (the model
asks for a tool) and ``function_call_output`` (the tool's result). Write it
once and it can be logged, registered, served and evaluated like any model, and
every ``predict`` / ``predict_stream`` call is traced as an AGENT span without
a decorator.

Build ``CalculatorAgent``, an agent with one tool, a calculator:

1. ``predict_stream(request)``: the agent loop. Call the chat completions API
   (``openai.OpenAI()``, model ``MODEL``, ``tools=[_CALCULATOR_TOOL]``,
   ``stream=True``); send the text to the caller as it arrives; when the model
   asks for the calculator, run it and feed the result back, until the model
   answers with text. MLflow's helpers do most of the work:
   ``self.prep_msgs_for_cc_llm(items)`` turns Responses items into chat
   messages, ``self.output_to_responses_items_stream(chunks, aggregator=list)``
   turns the streamed chunks (as dicts: ``chunk.to_dict()``) into stream events
   and collects the finished items, ``self.create_function_call_output_item``
   makes the tool's result item.
2. ``predict(request)``: the same answer at once: collect the items of
   ``predict_stream``'s ``response.output_item.done`` events.
3. ``log_agent(name)``: log the agent *as code* ("models from code"): MLflow
   stores this file's source, not a pickle, and runs it again when the model is
   loaded; ``mlflow.models.set_model(...)`` in the file says which object is the
   model.

The stream must add up: the ``response.output_text.delta`` events' deltas,
joined, are exactly the text of the ``message`` item in the
``response.output_item.done`` event that follows them. A client shows the
deltas as they come and trusts the done item as the final answer.

MLflow APIs practised: ``ResponsesAgent``, ``ResponsesAgentRequest`` /
``ResponsesAgentResponse`` / ``ResponsesAgentStreamEvent``, ``mlflow.start_span``,
``mlflow.pyfunc.log_model(name=..., python_model=<file path>)``,
``mlflow.models.set_model``, ``mlflow.pyfunc.load_model``.

Done looks like this: ``mlflow.pyfunc.load_model(info.model_uri)`` gives a model
whose ``predict`` returns a dict of output items and whose ``predict_stream``
yields event dicts; each call is an AGENT trace linked to the LoggedModel, with
the calculator's TOOL span inside.

Run the checks: ``uv run pytest exercises/module_04/test_ex04_responses_agent.py``
"""

from __future__ import annotations

import ast
import json  # noqa: F401 - a function_call item's arguments are JSON text
import operator
from collections.abc import Generator

import mlflow  # noqa: F401
import openai  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import (
    ResponsesAgentRequest,
    ResponsesAgentResponse,
    ResponsesAgentStreamEvent,
)

MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = "You are a helpful assistant. Use the calculator for any arithmetic."
MAX_STEPS = 5
PIP_REQUIREMENTS = ["mlflow==3.17.2", "openai"]

# Ready-made: the tool, described the way the Chat Completions API expects it.
_CALCULATOR_TOOL = {
    "type": "function",
    "function": {
        "name": "calculator",
        "description": "Evaluate an arithmetic expression such as '(2 + 3) * 4'.",
        "parameters": {
            "type": "object",
            "properties": {"expression": {"type": "string"}},
            "required": ["expression"],
        },
    },
}

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _calculate(expression: str) -> str:
    """Ready-made: evaluate + - * / ** and parentheses on numbers; anything else is an
    error message."""

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.operand))
        raise ValueError(f"not arithmetic: {ast.unparse(node)}")

    try:
        return str(value(ast.parse(expression, mode="eval").body))
    except (SyntaxError, ValueError, ZeroDivisionError) as err:
        return f"Error: {err}"


class CalculatorAgent(ResponsesAgent):
    """An agent that answers with an OpenAI-compatible chat model and a calculator tool."""

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        """The whole answer at once: every output item of ``predict_stream``, in order."""
        # TODO: run predict_stream and keep the .item of every "response.output_item.done"
        #       event; return ResponsesAgentResponse(output=items).
        raise NotImplementedError("CalculatorAgent.predict: not written yet (see the TODO above)")

    def predict_stream(
        self, request: ResponsesAgentRequest
    ) -> Generator[ResponsesAgentStreamEvent, None, None]:
        """The answer as it is produced: text deltas, then one done event per output item.

        A tool call shows up as a ``function_call`` item followed by a
        ``function_call_output`` item; the final text as ``response.output_text.delta``
        events whose deltas add up to the text of the ``message`` item that follows them.
        Each tool run is a TOOL span named after the tool, with its arguments as inputs.
        The model is called at most ``MAX_STEPS`` times per request, even when it keeps
        asking for tools.
        """
        # TODO: messages = system prompt + self.prep_msgs_for_cc_llm(request.input items as
        #       dicts). Up to MAX_STEPS times: stream a chat completion; yield from
        #       self.output_to_responses_items_stream(..., aggregator=items); add the items to
        #       the messages; stop when none is a "function_call"; else run each call (a TOOL
        #       span named after the tool, with its arguments as inputs), and yield a done event
        #       with the create_function_call_output_item(call_id, result) item.
        raise NotImplementedError(
            "CalculatorAgent.predict_stream: not written yet (see the TODO above)"
        )
        yield  # ResponsesAgent requires predict_stream to be a generator; replace this line


def log_agent(name: str = "agent") -> ModelInfo:
    """Log this file as the agent's code ("models from code") and return its ModelInfo.

    The model's requirements are ``PIP_REQUIREMENTS`` (``pip_requirements=``), so that
    MLflow does not infer them from the environment (slow).

    The file ends with ``mlflow.models.set_model(CalculatorAgent())``, which tells
    MLflow which object in it is the model when the model is loaded back.
    """
    # TODO: mlflow.pyfunc.log_model(name=..., python_model=<the path of this file>,
    #       pip_requirements=PIP_REQUIREMENTS). Then add the set_model call below.
    raise NotImplementedError("log_agent: not written yet (see the TODO above)")


# TODO: at the very end of the file, tell MLflow which object is the model:
#       mlflow.models.set_model(...) with an instance of CalculatorAgent.
