"""Exercise 5: cut LLM costs with a semantic cache and a model router.

Two cheap tricks save most of an LLM bill. A *semantic cache* answers a
question that means the same as one answered before ("What is MLflow
tracing?" / "what is mlflow tracing") from memory, matching by embedding
similarity rather than exact text, and forgets answers after a while. A
*router* sends simple questions to a small, cheap model and only hard ones
to the large model. To know what they save, record every decision on the
trace and compute the savings from the traces afterwards.

Build:

1. ``SemanticCache.lookup`` / ``store``: cosine similarity against a
   threshold, a time-to-live, and counters of hits, misses and stale entries.
2. ``route(question)``: small or large model, by a simple rule.
3. ``CostAwareAssistant.answer(question)``: one trace per question; the cache
   decision and the routing decision as span attributes (``CACHE_HIT``,
   ``CACHE_SIMILARITY``, ``CACHE_SOURCE_TRACE``, ``ROUTER_MODEL``); the model
   call as a CHAT_MODEL span with its token usage.
4. ``cost_saved(traces, prices)``: the dollars saved against "every question
   to the large model, no cache", read from the traces alone.

``_cosine`` and ``_openai_embed`` are ready-made. The chat and embedding models
are the OpenAI client, configured the usual way (``OPENAI_BASE_URL``,
``OPENAI_API_KEY``); the tests point it at a fake server. Ages come from
``time.time()``, so the tests can move the clock.

MLflow APIs practised: ``@mlflow.trace``, ``mlflow.start_span`` with
``set_attribute(s)``, ``mlflow.get_current_active_span().trace_id``,
``mlflow.openai.autolog()`` (CHAT_MODEL spans with ``mlflow.chat.tokenUsage``
and ``mlflow.llm.model``), ``mlflow.get_trace``.

Done looks like this: in the UI, each answer is a trace whose spans say
whether the cache hit (and which trace the answer came from) or which model
was chosen; ``cost_saved`` turns a list of traces into dollars.

Run the checks: ``uv run pytest exercises/module_08/test_ex05_cache_and_routing.py``
"""

from __future__ import annotations

import math
import re  # noqa: F401
import time  # noqa: F401
from collections.abc import Callable
from dataclasses import dataclass

import mlflow  # noqa: F401 - you will need these
import openai
from mlflow.entities import SpanType, Trace  # noqa: F401

SMALL_MODEL = "gpt-4o-mini"
LARGE_MODEL = "gpt-4o"
EMBEDDING_MODEL = "text-embedding-3-small"
HARD_WORDS = ("explain", "compare", "why", "design", "trade-off", "tradeoff", "analyze")
MAX_SIMPLE_WORDS = 12
SIMILARITY_THRESHOLD = 0.9
TTL_SECONDS = 3600.0
# Span attributes the tests (and your dashboards) read:
CACHE_HIT = "cache.hit"
CACHE_SIMILARITY = "cache.similarity"
CACHE_SOURCE_TRACE = "cache.source_trace_id"
ROUTER_MODEL = "router.model"


@dataclass
class CacheEntry:
    question: str
    embedding: list[float]
    answer: str
    trace_id: str | None  # the trace that produced the answer
    created_at: float  # time.time() when stored


@dataclass
class CacheLookup:
    hit: bool  # a fresh entry was similar enough: use its answer
    stale: bool  # a similar entry was found but it was too old (it is dropped)
    similarity: float  # the best similarity found (0.0 for an empty cache)
    entry: CacheEntry | None  # the entry used on a hit, else None


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _openai_embed(text: str) -> list[float]:
    """An embedding from the OpenAI embeddings endpoint (configured the usual way)."""
    reply = openai.OpenAI().embeddings.create(model=EMBEDDING_MODEL, input=text)
    return list(reply.data[0].embedding)


class SemanticCache:
    """Answers keyed by meaning: a question close enough to a stored one (cosine
    similarity of their embeddings >= ``threshold``) gets the stored answer, as long
    as that answer is younger than ``ttl_seconds``."""

    def __init__(
        self,
        embed: Callable[[str], list[float]],
        threshold: float = SIMILARITY_THRESHOLD,
        ttl_seconds: float = TTL_SECONDS,
    ) -> None:
        self.embed = embed
        self.threshold = threshold
        self.ttl_seconds = ttl_seconds
        self.entries: list[CacheEntry] = []
        self.hits = 0
        self.misses = 0
        self.stale = 0

    def lookup(self, question: str) -> CacheLookup:
        """Find the stored entry most similar to ``question``.

        - similarity >= threshold and age <= ttl_seconds: a hit (``hits`` + 1);
        - similarity >= threshold but older: stale (``stale`` + 1); drop the entry;
        - otherwise (or an empty cache): a miss (``misses`` + 1).
        The age is ``time.time()`` now minus the entry's ``created_at``.
        """
        # TODO: embed the question, find the entry with the highest _cosine similarity, then return
        #       a hit, a stale result (drop the entry) or a miss, and count it.
        raise NotImplementedError("lookup: not written yet (see the TODO above)")

    def store(self, question: str, answer: str, trace_id: str | None = None) -> None:
        """Remember ``answer`` for ``question`` (with the id of the trace that produced
        it), stamped with ``time.time()``."""
        # TODO: append a CacheEntry with the question's embedding, the answer, the trace id and
        #       time.time().
        raise NotImplementedError("store: not written yet (see the TODO above)")


def route(question: str) -> str:
    """``LARGE_MODEL`` for a hard question: more than ``MAX_SIMPLE_WORDS`` words, or
    any word of ``HARD_WORDS`` (in any case); ``SMALL_MODEL`` otherwise."""
    # TODO: LARGE_MODEL when the question has more than MAX_SIMPLE_WORDS words or contains a word
    #       of HARD_WORDS (lower-cased); SMALL_MODEL otherwise.
    raise NotImplementedError("route: not written yet (see the TODO above)")


class CostAwareAssistant:
    """Answers questions cheaply: from the cache when it can, else from the model that
    ``route`` picks."""

    def __init__(self, cache: SemanticCache | None = None) -> None:
        self.cache = cache if cache is not None else SemanticCache(_openai_embed)

    def answer(self, question: str) -> str:
        """Answer ``question`` as ONE trace.

        Look the question up in the cache, in a span that records ``CACHE_HIT``
        (bool) and ``CACHE_SIMILARITY`` as attributes, plus ``CACHE_SOURCE_TRACE``
        (the id of the trace that produced the cached answer) on a hit. On a hit,
        return the cached answer without calling any chat model. On a miss, pick
        the model with ``route``, record it as the attribute ``ROUTER_MODEL`` on a
        span, ask that model (OpenAI chat completions, the question as the user
        message; with ``mlflow.openai.autolog()`` the call is a CHAT_MODEL span
        with its token usage), store the answer in the cache with this trace's
        id, and return it.
        """
        # TODO: trace this method; look up the cache inside a span and set CACHE_HIT and
        #       CACHE_SIMILARITY (and CACHE_SOURCE_TRACE on a hit, then return the cached answer);
        #       on a miss set ROUTER_MODEL on a span, call the routed model, store the answer with
        #       the current trace id, return it. Turn on mlflow.openai.autolog() once for the
        #       spans.
        raise NotImplementedError("answer: not written yet (see the TODO above)")


def cost_saved(
    traces: list[Trace], prices: dict[str, tuple[float, float]], large_model: str = LARGE_MODEL
) -> float:
    """Dollars saved by the cache and the router, computed from the traces alone.

    ``prices`` maps a model name to (input, output) dollars per million tokens.
    The baseline sends every question to ``large_model`` with no cache. For each
    trace of ``answer``:
    - a miss saves (price of its chat calls' tokens on ``large_model``) minus
      (their price on the model that served them): zero when it was routed to
      the large model anyway;
    - a hit saves the whole price, on ``large_model``, of the chat calls of the
      trace that produced the cached answer (``CACHE_SOURCE_TRACE``; fetch it
      with ``mlflow.get_trace`` when it is not among ``traces``).
    """
    # TODO: for each trace: a hit (CACHE_HIT) saves its source trace's chat tokens priced on
    #       large_model; a miss saves large-model price minus actual price of its chat calls. Token
    #       usage is on CHAT_MODEL spans (mlflow.chat.tokenUsage), the model in mlflow.llm.model.
    raise NotImplementedError("cost_saved: not written yet (see the TODO above)")
