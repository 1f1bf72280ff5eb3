"""Exercise 5: a production-ready agent: retries with backoff, a fallback model, and every
failure visible in the trace.

Model APIs fail, and in production they fail every day: HTTP 503 when the
service is overloaded, 429 when you send too much, a dropped connection. Such
errors are *transient*: the same call a moment later usually works. A
production agent retries them, waiting longer after each failure (exponential
backoff, so a struggling service gets room to recover), and when its main model
stays down it falls back to another one. Errors that are not transient (HTTP
400: the request itself is wrong) are not worth retrying.

None of this may hide what happened. Each attempt is its own span in the
request's trace, failed ones with status ERROR and the exception, so that the
trace of a slow answer shows the three 503s that made it slow, and the tag
``answered_by`` says which model answered in the end. When every attempt
fails, the error reaches the caller and the trace ends as ERROR: an agent that
swallows the outage and makes up an answer is worse than one that fails.

Build ``answer(question, sleep)``. Waiting goes through the ``sleep`` argument
(``time.sleep`` by default), so that tests can record the waits instead of
sleeping. Tests script the failures with a fake OpenAI server
(``OPENAI_BASE_URL`` points at it); against the real OpenAI API the code is the
same.

MLflow APIs practised: ``mlflow.openai.autolog()``, ``@mlflow.trace``,
``mlflow.update_current_trace(tags=...)``, ``mlflow.get_current_active_span()``.

Done looks like this: in the UI, the trace of a question answered at the third
attempt has an AGENT span with three CHAT_MODEL spans under it, two red, one
green, and the tag ``answered_by``.

Run the checks: ``uv run pytest exercises/module_04/test_ex05_resilient_agent.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import mlflow  # noqa: F401
import openai
from mlflow.entities import SpanType  # noqa: F401

PRIMARY_MODEL = "gpt-4o-mini"
FALLBACK_MODEL = "gpt-4o"
MAX_ATTEMPTS = 3  # per model
BACKOFF_SECONDS = 0.5  # the wait after the first failed attempt; doubles after each one
ANSWERED_BY_TAG = "answered_by"
SYSTEM_PROMPT = "You are a support agent. Answer in one or two sentences."

# Worth another try: the service is overloaded, rate-limited or unreachable for a moment.
TRANSIENT_ERRORS = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)

# TODO: turn on MLflow's OpenAI autologging here, so that every chat completion (failed
#       ones too) becomes a CHAT_MODEL span.


@dataclass
class Answer:
    """What the agent answered, which model answered, and the trace of the request."""

    text: str
    model: str
    trace_id: str


def answer(question: str, sleep: Callable[[float], None] = time.sleep) -> Answer:
    """Answer ``question`` with ``PRIMARY_MODEL``, retrying and falling back when it fails.

    - Call the chat completions API (``openai.OpenAI(max_retries=0)``: the retries
      are ours, not the client's) with ``SYSTEM_PROMPT`` and the question.
    - A transient error (``TRANSIENT_ERRORS``: connection problems, timeouts, HTTP 429,
      HTTP 5xx) is retried, up to ``MAX_ATTEMPTS`` attempts per model; after the
      n-th failed attempt wait ``BACKOFF_SECONDS * 2 ** (n - 1)`` seconds with
      ``sleep`` (0.5, then 1.0), except after a model's last attempt.
    - Any other API error (e.g. HTTP 400) is not retried.
    - When the primary model has failed, try ``FALLBACK_MODEL`` the same way; when
      it fails too, raise its last error (the trace then ends with status ERROR).

    One trace per question, with an AGENT root span and one CHAT_MODEL span per
    attempt (``mlflow.openai.autolog()`` records them, failed ones as ERROR with the
    exception). Tag the trace with ``ANSWERED_BY_TAG`` = the model that answered.
    """
    # TODO: trace this function as the AGENT. Loop over the two models and, inside, over
    #       the attempts; catch TRANSIENT_ERRORS (wait, then retry) and openai.APIError
    #       (give up on this model). On success, tag the trace and return an Answer with
    #       the current span's trace_id. When both models failed, raise the last error.
    raise NotImplementedError("answer: not written yet (see the TODO above)")
