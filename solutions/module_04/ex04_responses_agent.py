"""Reference solution for module_04/ex04_responses_agent: a tool-calling ResponsesAgent."""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Generator
from typing import Any

import mlflow
import openai
from mlflow.entities import SpanType
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

# The tool, described the way the Chat Completions API expects it.
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
    """Evaluate + - * / ** and parentheses on numbers; anything else is an error message."""

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
        # predict_stream already does the work; keep only the finished items.
        items = [
            event.item
            for event in self.predict_stream(request)
            if event.type == "response.output_item.done"
        ]
        return ResponsesAgentResponse(output=items)

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
        client = openai.OpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY come from the environment
        messages = [{"role": "system", "content": SYSTEM_PROMPT}]
        messages += self.prep_msgs_for_cc_llm([item.model_dump() for item in request.input])
        for _ in range(MAX_STEPS):
            stream = client.chat.completions.create(
                model=MODEL, messages=messages, tools=[_CALCULATOR_TOOL], stream=True
            )
            # MLflow's helper turns Chat Completions chunks into Responses events: text deltas
            # as they arrive, then a done event per finished item (message or function call).
            items: list[dict[str, Any]] = []
            yield from self.output_to_responses_items_stream(
                (chunk.to_dict() for chunk in stream), aggregator=items
            )
            messages += self.prep_msgs_for_cc_llm(items)
            calls = [item for item in items if item["type"] == "function_call"]
            if not calls:
                return
            for call in calls:
                result = _run_tool(call["name"], call["arguments"])
                output = self.create_function_call_output_item(call["call_id"], result)
                messages += self.prep_msgs_for_cc_llm([output])
                yield ResponsesAgentStreamEvent(type="response.output_item.done", item=output)


def _run_tool(name: str, arguments: str) -> str:
    """Run the tool the model asked for, as a TOOL span named after it."""
    with mlflow.start_span(name=name, span_type=SpanType.TOOL) as span:
        args = json.loads(arguments or "{}")
        span.set_inputs(args)
        if name == "calculator":
            result = _calculate(args.get("expression", ""))
        else:
            result = f"Error: there is no tool named {name!r}"
        span.set_outputs(result)
        return result


def log_agent(name: str = "agent") -> ModelInfo:
    """Log this file as the agent's code ("models from code") and return its ModelInfo.

    The model's requirements are ``PIP_REQUIREMENTS`` (``pip_requirements=``), so that
    MLflow does not infer them from the environment (slow).

    The file ends with ``mlflow.models.set_model(CalculatorAgent())``, which tells
    MLflow which object in it is the model when the model is loaded back.
    """
    return mlflow.pyfunc.log_model(
        name=name, python_model=__file__, pip_requirements=PIP_REQUIREMENTS
    )


# When MLflow loads the logged model, it runs this file and takes the object given here.
mlflow.models.set_model(CalculatorAgent())
