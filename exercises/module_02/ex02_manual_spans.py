"""Exercise 2: open spans by hand with ``mlflow.start_span``; record events and errors.

A support-ticket triage has three steps: ``validate`` cleans the text (and
refuses an empty or over-long ticket), ``classify`` finds the category from
keywords (our stand-in for an LLM), ``route`` picks the team's queue. The
logic is ready-made in the private helpers below; your job is the tracing.
Write ``triage_ticket`` with ``with mlflow.start_span(...) as span:`` blocks
(no decorators), so that one call is one trace shaped like this:

    triage (CHAIN)         inputs {"ticket"}; outputs: the returned dict
      - validate (PARSER)  inputs {"ticket"}; outputs {"text"}
      - classify (LLM)     inputs {"text"}; outputs {"category"}; attribute model;
                           one "keyword_matched" event per matched keyword
      - route (TOOL)       inputs {"category"}; outputs {"queue"}

When validation fails, the ``ValueError`` must reach the caller, and the trace
must tell the story: the validate span and the whole trace in ERROR, the
exception recorded as an event on the span, and no classify or route span.

MLflow API practised: ``mlflow.start_span(name, span_type=...)``,
``span.set_inputs``, ``span.set_outputs``, ``span.set_attribute``,
``span.add_event(mlflow.entities.SpanEvent(name, attributes=...))``, and what
happens to spans when an exception passes through them.

Done looks like this: in the UI a good ticket shows the three steps with their
inputs and outputs and the keyword events on ``classify``; a blank ticket shows
a red (ERROR) trace whose ``validate`` span holds the exception.

Run the checks: ``uv run pytest exercises/module_02/test_ex02_manual_spans.py``
"""

from __future__ import annotations

import re

import mlflow  # noqa: F401 - you will need it
from mlflow.entities import SpanEvent, SpanType  # noqa: F401 - you will need these

ROOT_SPAN = "triage"
VALIDATE_SPAN = "validate"
CLASSIFY_SPAN = "classify"
ROUTE_SPAN = "route"
KEYWORD_EVENT = "keyword_matched"
MODEL_NAME = "kata-keyword-classifier"

CATEGORY_KEYWORDS = {
    "billing": ("invoice", "refund", "charged", "payment"),
    "outage": ("down", "outage", "error", "unavailable"),
    "account": ("password", "login", "locked", "email"),
}
QUEUES = {"billing": "finance", "outage": "on-call", "account": "support", "other": "support"}
MAX_TICKET_CHARS = 500


# --- ready-made helpers: the triage logic ---------------------------------------------


def _clean(ticket: str) -> str:
    """Collapse whitespace; an empty ticket or one over MAX_TICKET_CHARS is refused."""
    text = " ".join(ticket.split())
    if not text:
        raise ValueError("empty ticket: there is nothing to triage")
    if len(text) > MAX_TICKET_CHARS:
        raise ValueError(f"ticket too long: {len(text)} characters, at most {MAX_TICKET_CHARS}")
    return text


def _matched_keywords(text: str) -> list[tuple[str, str]]:
    """``(keyword, category)`` for every category keyword found in the text, in order."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return [
        (keyword, category)
        for category, keywords in CATEGORY_KEYWORDS.items()
        for keyword in keywords
        if keyword in words
    ]


def _category_of(matches: list[tuple[str, str]]) -> str:
    """The category with most matched keywords (the first one on a tie), else "other"."""
    counts: dict[str, int] = {}
    for _, category in matches:
        counts[category] = counts.get(category, 0) + 1
    return max(counts, key=counts.get) if counts else "other"


# --- your part ----------------------------------------------------------------------


def triage_ticket(ticket: str) -> dict:
    """Triage a support ticket into a category and a queue, as one trace.

    Spans (each opened with ``mlflow.start_span``)::

        triage (CHAIN)       inputs {"ticket"}; outputs: the returned dict
          - validate (PARSER)  inputs {"ticket"}; outputs {"text"} (the cleaned text)
          - classify (LLM)     inputs {"text"}; outputs {"category"}; attribute model;
                               one "keyword_matched" event per matched keyword,
                               with the attributes keyword and category
          - route (TOOL)       inputs {"category"}; outputs {"queue"}

    Returns ``{"category": ..., "queue": ...}``. An invalid ticket raises the
    ``ValueError`` of ``_clean`` to the caller, and the trace shows it: the
    validate span and the trace end in ERROR, with the exception as an event.
    """
    # TODO: open the root span, then one span per step inside it (validate with _clean,
    #       classify with _matched_keywords and _category_of, route with QUEUES); set each
    #       span's inputs and outputs, the model attribute and one SpanEvent per keyword.
    #       Let a ValueError from _clean go through: do not catch it.
    raise NotImplementedError("triage_ticket: not written yet (see the TODO above)")
