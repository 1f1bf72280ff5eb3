"""Reference solution for module_04/ex01_agent_tools: three tools, each call a TOOL span."""

from __future__ import annotations

import ast
import operator
import os

import mlflow
import requests
from mlflow.entities import SpanType

from fixtures.data import load_corpus

ERROR_PREFIX = "Error: "
SEARCH_URL_ENV = "SEARCH_API_URL"
MAX_RESULTS = 3
TIMEOUT_SECONDS = 5.0

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _failed(message: str, error: Exception) -> str:
    """Mark the current TOOL span as failed, and tell the agent what went wrong."""
    # record_exception adds an "exception" event and sets the span's status to ERROR;
    # @mlflow.trace keeps ERROR when the function then returns normally.
    mlflow.get_current_active_span().record_exception(error)
    return ERROR_PREFIX + message


def _evaluate(node: ast.AST) -> int | float:
    """The value of an arithmetic syntax tree; anything else is a ValueError."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponent too large")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"only numbers and + - * / // % ** are allowed, not {ast.unparse(node)!r}")


@mlflow.trace(span_type=SpanType.TOOL)
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as ``"(2 + 3) * 4"`` and return the result.

    Numbers, parentheses and ``+ - * / // % **`` only: the expression is parsed with
    ``ast`` and walked, never given to ``eval``. The result is returned as text
    (``"20"``, ``"3.5"``). Anything else (names, calls, attributes, strings, a
    division by zero, bad syntax) returns a message starting with ``ERROR_PREFIX``
    and marks the TOOL span as ERROR.
    """
    try:
        return str(_evaluate(ast.parse(expression, mode="eval").body))
    except (SyntaxError, ValueError, ArithmeticError) as err:
        return _failed(f"cannot calculate {expression!r}: {err}", err)


@mlflow.trace(span_type=SpanType.TOOL)
def web_search(query: str) -> str:
    """Search the web through the search API at ``$SEARCH_API_URL`` and return the top hits.

    ``GET <url>?q=<query>&format=json`` with a timeout of ``TIMEOUT_SECONDS``; the
    API answers ``{"results": [{"title", "url", "content"}, ...]}`` (the format
    of SearXNG). Returns the first ``MAX_RESULTS`` results, one line each:
    ``"<title>: <content> (<url>)"``, or ``"No results for '<query>'."``.

    A timeout, a connection error, an HTTP error status, a reply that is not
    JSON, or no URL configured: return a message starting with ``ERROR_PREFIX``
    that includes the error itself (for an HTTP error, its status such as 503), and
    mark the TOOL span as ERROR. Never raise.
    """
    url = os.environ.get(SEARCH_URL_ENV)
    if not url:
        return _failed(
            f"no search API configured; set {SEARCH_URL_ENV}",
            RuntimeError(f"{SEARCH_URL_ENV} is not set"),
        )
    try:
        response = requests.get(url, params={"q": query, "format": "json"}, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()  # a 4xx or 5xx status becomes an HTTPError
        results = response.json().get("results", [])
    except (requests.RequestException, ValueError) as err:  # ValueError: not JSON
        return _failed(f"web search failed: {err}", err)
    if not results:
        return f"No results for {query!r}."
    return "\n".join(
        f"{hit.get('title', '')}: {hit.get('content', '')} ({hit.get('url', '')})"
        for hit in results[:MAX_RESULTS]
    )


@mlflow.trace(span_type=SpanType.TOOL)
def lookup_document(name: str) -> str:
    """Return the full text of the corpus document ``name`` (``"mlflow_tracing"`` or
    ``"mlflow_tracing.md"``), from ``fixtures.data.load_corpus()``.

    An unknown name returns a message starting with ``ERROR_PREFIX`` that lists the
    available document names (so the agent can try again), and marks the TOOL
    span as ERROR.
    """
    corpus = load_corpus()
    file_name = name if name.endswith(".md") else f"{name}.md"
    if file_name not in corpus:
        available = ", ".join(sorted(corpus))
        return _failed(
            f"no document named {name!r}; available documents: {available}", KeyError(name)
        )
    return corpus[file_name]
