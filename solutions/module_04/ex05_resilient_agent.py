"""Reference solution for module_04/ex05_resilient_agent: retries with backoff, a fallback
model, and every failed attempt recorded in the trace."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import mlflow
import openai
from mlflow.entities import SpanType

PRIMARY_MODEL = "gpt-4o-mini"
FALLBACK_MODEL = "gpt-4o"
MAX_ATTEMPTS = 3  # per model
BACKOFF_SECONDS = 0.5  # the wait after the first failed attempt; doubles after each one
ANSWERED_BY_TAG = "answered_by"
SYSTEM_PROMPT = "You are a support agent. Answer in one or two sentences."

# Worth another try: the service is overloaded, rate-limited or unreachable for a moment.
TRANSIENT_ERRORS = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)

# Every chat completion becomes a CHAT_MODEL span, a failed one with status ERROR and the
# exception: the trace shows each attempt without any code of ours.
mlflow.openai.autolog()


@dataclass
class Answer:
    """What the agent answered, which model answered, and the trace of the request."""

    text: str
    model: str
    trace_id: str


@mlflow.trace(name="support_agent", span_type=SpanType.AGENT)
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
    client = openai.OpenAI(max_retries=0)
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]
    last_error: Exception | None = None
    for model in (PRIMARY_MODEL, FALLBACK_MODEL):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = client.chat.completions.create(model=model, messages=messages)
            except TRANSIENT_ERRORS as err:
                last_error = err
                if attempt < MAX_ATTEMPTS:
                    sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                continue
            except openai.APIError as err:  # a bad request stays bad: do not retry it
                last_error = err
                break
            mlflow.update_current_trace(tags={ANSWERED_BY_TAG: model})
            trace_id = mlflow.get_current_active_span().trace_id
            return Answer(text=response.choices[0].message.content, model=model, trace_id=trace_id)
    assert last_error is not None
    raise last_error
