"""Reference solution for module_08/ex05_cache_and_routing: a semantic cache and a model router."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import mlflow
import openai
from mlflow.entities import SpanType, Trace

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
        vector = self.embed(question)
        best, best_score = None, 0.0
        for entry in self.entries:
            score = _cosine(vector, entry.embedding)
            if best is None or score > best_score:
                best, best_score = entry, score
        if best is None or best_score < self.threshold:
            self.misses += 1
            return CacheLookup(hit=False, stale=False, similarity=best_score, entry=None)
        if time.time() - best.created_at > self.ttl_seconds:
            self.stale += 1
            self.entries.remove(best)
            return CacheLookup(hit=False, stale=True, similarity=best_score, entry=None)
        self.hits += 1
        return CacheLookup(hit=True, stale=False, similarity=best_score, entry=best)

    def store(self, question: str, answer: str, trace_id: str | None = None) -> None:
        """Remember ``answer`` for ``question`` (with the id of the trace that produced
        it), stamped with ``time.time()``."""
        entry = CacheEntry(question, self.embed(question), answer, trace_id, time.time())
        self.entries.append(entry)


def route(question: str) -> str:
    """``LARGE_MODEL`` for a hard question: more than ``MAX_SIMPLE_WORDS`` words, or
    any word of ``HARD_WORDS`` (in any case); ``SMALL_MODEL`` otherwise."""
    words = re.findall(r"[a-z]+(?:-[a-z]+)*", question.lower())
    if len(question.split()) > MAX_SIMPLE_WORDS or set(words) & set(HARD_WORDS):
        return LARGE_MODEL
    return SMALL_MODEL


class CostAwareAssistant:
    """Answers questions cheaply: from the cache when it can, else from the model that
    ``route`` picks."""

    def __init__(self, cache: SemanticCache | None = None) -> None:
        self.cache = cache if cache is not None else SemanticCache(_openai_embed)

    @mlflow.trace(name="assistant", span_type=SpanType.AGENT)
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
        with mlflow.start_span(name="semantic_cache", span_type=SpanType.RETRIEVER) as span:
            span.set_inputs({"question": question})
            found = self.cache.lookup(question)
            span.set_attributes({CACHE_HIT: found.hit, CACHE_SIMILARITY: found.similarity})
            if found.hit and found.entry is not None:
                span.set_attribute(CACHE_SOURCE_TRACE, found.entry.trace_id or "")
                span.set_outputs(found.entry.answer)
                return found.entry.answer

        with mlflow.start_span(name="router", span_type=SpanType.CHAIN) as span:
            span.set_inputs({"question": question})
            model = route(question)
            span.set_attribute(ROUTER_MODEL, model)
            span.set_outputs(model)

        reply = openai.OpenAI().chat.completions.create(
            model=model, messages=[{"role": "user", "content": question}]
        )
        text = reply.choices[0].message.content or ""
        current = mlflow.get_current_active_span()
        self.cache.store(question, text, trace_id=current.trace_id if current else None)
        return text


def _attribute(trace: Trace, key: str):
    return next((s.attributes[key] for s in trace.data.spans if key in s.attributes), None)


def _price(prices: dict[str, tuple[float, float]], model: str, usage: dict) -> float:
    price_in, price_out = prices[model]
    tokens_in, tokens_out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    return (tokens_in * price_in + tokens_out * price_out) / 1_000_000


def _calls(trace: Trace) -> list[tuple[str, dict]]:
    """(model, token usage) of every chat model call in the trace."""
    found = []
    for span in trace.data.spans:
        usage = span.attributes.get("mlflow.chat.tokenUsage")
        if span.span_type in (SpanType.CHAT_MODEL, SpanType.LLM) and usage:
            found.append((span.attributes.get("mlflow.llm.model"), usage))
    return found


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
    by_id = {trace.info.trace_id: trace for trace in traces}
    saved = 0.0
    for trace in traces:
        if _attribute(trace, CACHE_HIT):
            source_id = _attribute(trace, CACHE_SOURCE_TRACE)
            source = by_id.get(source_id) or mlflow.get_trace(source_id, flush=True)
            saved += sum(_price(prices, large_model, usage) for _, usage in _calls(source))
        else:
            for model, usage in _calls(trace):
                saved += _price(prices, large_model, usage) - _price(prices, model, usage)
    return saved


# Every OpenAI call (chat and embeddings) becomes a span of the open trace.
mlflow.openai.autolog()
