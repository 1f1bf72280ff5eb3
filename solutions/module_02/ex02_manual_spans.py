"""Reference solution for module_02/ex02_manual_spans: spans opened by hand, events, errors."""

from __future__ import annotations

import re

import mlflow
from mlflow.entities import SpanEvent, SpanType

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
    with mlflow.start_span(ROOT_SPAN, span_type=SpanType.CHAIN) as root:
        root.set_inputs({"ticket": ticket})

        # An exception leaving a `with mlflow.start_span(...)` block marks that span (and
        # every span it passes through on its way out) ERROR, records it as an
        # "exception" event, and goes on to the caller: there is nothing to catch here.
        with mlflow.start_span(VALIDATE_SPAN, span_type=SpanType.PARSER) as span:
            span.set_inputs({"ticket": ticket})
            text = _clean(ticket)
            span.set_outputs({"text": text})

        with mlflow.start_span(CLASSIFY_SPAN, span_type=SpanType.LLM) as span:
            span.set_inputs({"text": text})
            span.set_attribute("model", MODEL_NAME)
            matches = _matched_keywords(text)
            for keyword, category in matches:
                # Events are timestamped things that happened during a span.
                span.add_event(
                    SpanEvent(KEYWORD_EVENT, attributes={"keyword": keyword, "category": category})
                )
            category = _category_of(matches)
            span.set_outputs({"category": category})

        with mlflow.start_span(ROUTE_SPAN, span_type=SpanType.TOOL) as span:
            span.set_inputs({"category": category})
            queue = QUEUES[category]
            span.set_outputs({"queue": queue})

        result = {"category": category, "queue": queue}
        root.set_outputs(result)
    return result
