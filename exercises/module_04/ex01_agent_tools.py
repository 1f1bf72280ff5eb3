"""Exercise 1: tools for an agent, each call a TOOL span, failures reported, never raised.

An agent is only as good as its tools. A tool is a plain function that the
model may ask to call; what it returns goes back to the model as the next
message. Two rules make tools production-ready:

- every call is visible in the trace: a span of type TOOL, named after the
  tool, with its inputs and its output;
- a tool that fails does not crash the agent. It returns a message that says
  what went wrong (the model can then retry or apologise) AND marks its span as
  ERROR, so that you see the failure in MLflow instead of a cheerful "OK".

Build three tools:

1. ``calculator(expression)``: arithmetic, evaluated safely. Parse the
   expression with ``ast.parse(expression, mode="eval")`` and walk the tree
   yourself (numbers, ``+ - * / // % **``, unary minus, parentheses). Never
   call ``eval``: the expression comes from a model, and a model can be talked
   into anything.
2. ``web_search(query)``: calls an HTTP search API with ``requests`` (SearXNG's
   JSON format). A timeout or an HTTP error becomes a message and an ERROR span.
3. ``lookup_document(name)``: the text of one document of the kata's corpus.

MLflow APIs practised: ``@mlflow.trace(span_type=SpanType.TOOL)``,
``mlflow.get_current_active_span()``, ``LiveSpan.record_exception``.

Done looks like this: in the MLflow UI each call is a TOOL span with its inputs
and output; a search that timed out is a red ERROR span with the exception
attached, and the function returned ``"Error: web search failed: ..."``.

Run the checks: ``uv run pytest exercises/module_04/test_ex01_agent_tools.py``
"""

from __future__ import annotations

import ast  # noqa: F401 - parse the calculator's expression
import operator
import os  # noqa: F401 - os.environ holds the search API's URL

import mlflow  # noqa: F401
import requests  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401

from fixtures.data import load_corpus  # noqa: F401 - {"file.md": "text", ...}

ERROR_PREFIX = "Error: "
SEARCH_URL_ENV = "SEARCH_API_URL"
MAX_RESULTS = 3
TIMEOUT_SECONDS = 5.0

# Ready-made: the arithmetic operators the calculator allows, by their ast node type.
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


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as ``"(2 + 3) * 4"`` and return the result.

    Numbers, parentheses and ``+ - * / // % **`` only: the expression is parsed with
    ``ast`` and walked, never given to ``eval``. The result is returned as text
    (``"20"``, ``"3.5"``). Anything else (names, calls, attributes, strings, a
    division by zero, bad syntax) returns a message starting with ``ERROR_PREFIX``
    and marks the TOOL span as ERROR.
    """
    # TODO: trace it as a TOOL span; parse with ast (mode="eval") and walk the tree: a
    #       number (ast.Constant of type int or float), a BinOp or UnaryOp whose op is in
    #       _OPERATORS; refuse anything else. On any failure, record the exception on the
    #       current span and return ERROR_PREFIX + a message.
    raise NotImplementedError("calculator: not written yet (see the TODO above)")


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
    # TODO: trace it as a TOOL span; read the URL from os.environ[SEARCH_URL_ENV]; call
    #       requests.get with params and timeout; raise_for_status(); format the hits.
    #       Catch requests.RequestException (and ValueError for bad JSON): record the
    #       exception on the current span and return ERROR_PREFIX + a message.
    raise NotImplementedError("web_search: not written yet (see the TODO above)")


def lookup_document(name: str) -> str:
    """Return the full text of the corpus document ``name`` (``"mlflow_tracing"`` or
    ``"mlflow_tracing.md"``), from ``fixtures.data.load_corpus()``.

    An unknown name returns a message starting with ``ERROR_PREFIX`` that lists the
    available document names (so the agent can try again), and marks the TOOL
    span as ERROR.
    """
    # TODO: trace it as a TOOL span; look the name up (add ".md" when it is missing);
    #       for an unknown name, record an exception on the current span and return
    #       ERROR_PREFIX + a message listing the documents.
    raise NotImplementedError("lookup_document: not written yet (see the TODO above)")
