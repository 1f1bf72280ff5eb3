"""Checks for ex05_cache_and_routing: a semantic cache, a model router, savings from traces."""

import pytest

from fixtures.clock import frozen_clock
from fixtures.llm_server import embed_text
from fixtures.messages import shown
from fixtures.traces import find_spans, search_traces, span_tree, token_usage, traces_of

QUESTION = "What is MLflow tracing?"
SAME_MEANING = "what is mlflow tracing"  # the same words that matter: similarity 1.0
CLOSE = "What is MLflow tracing used for?"  # similarity about 0.82
UNRELATED = "How do Spark UDFs run?"
HARD = "Explain how the prompt registry handles aliases"


def _attribute(trace, key):
    """The value of span attribute ``key`` on the first span of ``trace`` that has it."""
    return next((s.attributes[key] for s in trace.data.spans if key in s.attributes), None)


def _described(trace):
    attrs = {
        s.name: {k: v for k, v in s.attributes.items() if not k.startswith("mlflow.")}
        for s in trace.data.spans
    }
    return f"{span_tree(trace)}\nattributes: {attrs}"


def test_the_cache_hits_a_question_that_means_the_same_and_counts_hits_and_misses(exercise):
    cache = exercise.SemanticCache(embed_text)

    empty = cache.lookup(QUESTION)
    cache.store(QUESTION, "Traces record each step.", trace_id="tr-1")
    hit = cache.lookup(SAME_MEANING)
    miss = cache.lookup(UNRELATED)

    assert not empty.hit and not empty.stale, (
        f"expected a miss on an empty cache; got {shown(empty)}"
    )
    assert empty.similarity == 0.0, (
        f"expected similarity 0.0 for a lookup in an empty cache; got {shown(empty)}"
    )
    assert hit.hit and hit.entry is not None and hit.entry.answer == "Traces record each step.", (
        f"expected {SAME_MEANING!r} to hit the answer stored for {QUESTION!r} (similarity "
        f"1.0 >= 0.9); got {shown(hit)}"
    )
    assert hit.entry.trace_id == "tr-1" and hit.similarity == pytest.approx(1.0), (
        f"expected the hit to carry the entry's trace id 'tr-1' and similarity 1.0; "
        f"got {shown(hit)}"
    )
    assert not miss.hit and miss.entry is None, f"expected {UNRELATED!r} to miss; got {shown(miss)}"
    counts = (cache.hits, cache.misses, cache.stale)
    assert counts == (1, 2, 0), f"expected hits, misses, stale = (1, 2, 0); got {counts}"


def test_the_threshold_decides_how_similar_is_similar_enough(exercise):
    strict = exercise.SemanticCache(embed_text, threshold=0.9)
    lenient = exercise.SemanticCache(embed_text, threshold=0.8)
    for cache in (strict, lenient):
        cache.store(QUESTION, "Traces record each step.")

    found_strict, found_lenient = strict.lookup(CLOSE), lenient.lookup(CLOSE)

    assert not found_strict.hit and found_lenient.hit, (
        f"expected {CLOSE!r} (similarity about 0.82 to {QUESTION!r}) to miss with threshold "
        f"0.9 and hit with threshold 0.8; got {shown(found_strict)} and {shown(found_lenient)}"
    )


def test_a_lookup_uses_the_most_similar_entry_not_the_first_similar_enough(exercise):
    cache = exercise.SemanticCache(embed_text, threshold=0.8)
    cache.store(CLOSE, "About what tracing is used for.", trace_id="tr-close")
    cache.store(QUESTION, "Traces record each step.", trace_id="tr-same")

    found = cache.lookup(SAME_MEANING)

    entry = getattr(found, "entry", None)
    assert getattr(entry, "trace_id", None) == "tr-same", (
        f"expected {SAME_MEANING!r} to get the entry of {QUESTION!r} (similarity 1.0), the most "
        f"similar one, not the first entry above the threshold ({CLOSE!r}, similarity about "
        f"0.82); got {shown(found)}"
    )
    assert getattr(found, "similarity", None) == pytest.approx(1.0), (
        f"expected the lookup's similarity to be the best one found, 1.0; got {shown(found)}"
    )


def test_an_answer_older_than_the_ttl_is_stale_and_dropped(exercise):
    with frozen_clock("2025-03-01 09:00:00+00:00") as clock:
        cache = exercise.SemanticCache(embed_text, ttl_seconds=600)
        cache.store(QUESTION, "Traces record each step.")
        clock.tick(600)
        fresh = cache.lookup(SAME_MEANING)
        clock.tick(1)
        old = cache.lookup(SAME_MEANING)
        after = cache.lookup(SAME_MEANING)

    assert fresh.hit, (
        f"expected a hit 600 s after storing (ttl 600 s: an age equal to the ttl is still "
        f"fresh); got {shown(fresh)}"
    )
    assert old.stale and not old.hit and old.entry is None, (
        f"expected a stale lookup (not a hit) 601 s after storing; got {shown(old)}"
    )
    assert not after.hit and not after.stale, (
        f"expected the stale entry to be dropped, so the next lookup misses; got {shown(after)}"
    )
    counts = (cache.hits, cache.misses, cache.stale)
    assert counts == (1, 1, 1), f"expected hits, misses, stale = (1, 1, 1); got {counts}"


def test_route_sends_hard_questions_to_the_large_model(exercise):
    small, large = exercise.SMALL_MODEL, exercise.LARGE_MODEL
    cases = {
        "What is a span?": small,
        HARD: large,
        "WHY do traces matter?": large,
        "Compare aliases and stages": large,
        "What is the trade-off here?": large,
        "Which one of these thirteen short words is really the one I want": large,
        "Which one of these twelve short words is the one I want": small,
    }
    wrong = {q: (exercise.route(q), m) for q, m in cases.items() if exercise.route(q) != m}
    assert not wrong, "route picked the wrong model (question: found, expected): " + "; ".join(
        f"{q!r}: {found}, expected {model}" for q, (found, model) in wrong.items()
    )


def test_a_miss_asks_the_routed_model_and_records_the_decision_on_a_span(exercise, fake_llm_env):
    assistant = exercise.CostAwareAssistant()

    answer, traces = traces_of(assistant.answer, QUESTION)
    trace = traces[-1]
    assistant.answer(HARD)

    models = [r.body.get("model") for r in fake_llm_env.chat_requests]
    assert models == [exercise.SMALL_MODEL, exercise.LARGE_MODEL], (
        f"expected a call to {exercise.SMALL_MODEL} for a simple question, then to "
        f"{exercise.LARGE_MODEL} for a hard one; the models called were {models}"
    )
    assert answer == f"Echo: {QUESTION}", f"expected the model's reply; got {shown(answer)}"
    assert _attribute(trace, exercise.CACHE_HIT) is False, (
        f"expected a span attribute {exercise.CACHE_HIT}=False on a miss; found:\n"
        f"{_described(trace)}"
    )
    assert _attribute(trace, exercise.CACHE_SIMILARITY) == 0.0, (
        f"expected a span attribute {exercise.CACHE_SIMILARITY}=0.0 on a miss in an empty "
        f"cache; found:\n{_described(trace)}"
    )
    assert _attribute(trace, exercise.ROUTER_MODEL) == exercise.SMALL_MODEL, (
        f"expected a span attribute {exercise.ROUTER_MODEL}={exercise.SMALL_MODEL!r}; found:\n"
        f"{_described(trace)}"
    )
    assert find_spans(trace, span_type="CHAT_MODEL") or find_spans(trace, span_type="LLM"), (
        f"expected the model call as a CHAT_MODEL span in the trace; found:\n{span_tree(trace)}"
    )


def test_a_hit_answers_from_the_cache_without_calling_a_model(exercise, fake_llm_env):
    assistant = exercise.CostAwareAssistant()
    first_answer, first = traces_of(assistant.answer, QUESTION)
    first_trace = first[-1]

    second_answer, second = traces_of(assistant.answer, SAME_MEANING)

    assert len(second) == 1, f"expected one trace per answer; the second made {len(second)}"
    trace = second[0]
    calls = len(fake_llm_env.chat_requests)
    assert calls == 1 and second_answer == first_answer, (
        f"expected the second, same-meaning question to get the cached answer {first_answer!r} "
        f"with no chat model call; got {shown(second_answer)} after {calls} chat calls in all"
    )
    assert _attribute(trace, exercise.CACHE_HIT) is True, (
        f"expected a span attribute {exercise.CACHE_HIT}=True on a hit; found:\n{_described(trace)}"
    )
    similarity = _attribute(trace, exercise.CACHE_SIMILARITY)
    assert isinstance(similarity, int | float) and similarity == pytest.approx(1.0), (
        f"expected a span attribute {exercise.CACHE_SIMILARITY}=1.0 on this hit; found:\n"
        f"{_described(trace)}"
    )
    source = _attribute(trace, exercise.CACHE_SOURCE_TRACE)
    assert source == first_trace.info.trace_id, (
        f"expected {exercise.CACHE_SOURCE_TRACE} to name the trace that produced the answer "
        f"({first_trace.info.trace_id}); found {shown(source)}"
    )


@pytest.fixture
def three_answers(exercise, fake_llm_env, model_prices):
    """A simple question (small model), a hard one (large model), then a cache hit."""
    assistant = exercise.CostAwareAssistant()
    for question in (QUESTION, HARD, SAME_MEANING):
        assistant.answer(question)
    traces = search_traces()
    assert len(traces) == 3, f"expected three traces, one per answer; found {len(traces)}"
    return traces, model_prices


def _tokens(trace):
    usage = token_usage(trace) or {}
    return usage.get("input_tokens", 0), usage.get("output_tokens", 0)


def test_cost_saved_adds_the_router_and_cache_savings_read_from_the_traces(exercise, three_answers):
    traces, prices = three_answers
    small, large = exercise.SMALL_MODEL, exercise.LARGE_MODEL
    first = _tokens(traces[0])

    saved = exercise.cost_saved(traces, prices.prices["openai"])

    routed = prices.cost(large, *first) - prices.cost(small, *first)
    cached = prices.cost(large, *first)
    assert saved == pytest.approx(routed + cached, rel=1e-6), (
        f"expected ${routed + cached:.8f} saved: ${routed:.8f} for sending the simple question "
        f"to {small} instead of {large}, $0 for the hard one, and ${cached:.8f} for the cache "
        f"hit (its source call, priced on {large}); got {shown(saved)}"
    )


def test_cost_saved_fetches_a_hits_source_trace_from_the_store(exercise, three_answers):
    traces, prices = three_answers

    saved = exercise.cost_saved([traces[2]], prices.prices["openai"])

    expected = prices.cost(exercise.LARGE_MODEL, *_tokens(traces[0]))
    assert saved == pytest.approx(expected, rel=1e-6), (
        f"expected ${expected:.8f} saved by the cache hit alone, whose source trace is not in "
        f"the list (fetch it by its id); got {shown(saved)}"
    )


def test_cost_saved_prices_the_baseline_on_the_large_model_it_is_given(exercise, three_answers):
    traces, prices = three_answers
    small, large = exercise.SMALL_MODEL, exercise.LARGE_MODEL
    first, hard = _tokens(traces[0]), _tokens(traces[1])

    saved = exercise.cost_saved(traces, prices.prices["openai"], large_model=small)

    # Against "everything on the small model": the simple question saves nothing, the hard
    # one costs extra, and the hit saves its source call priced on the small model.
    expected = (prices.cost(small, *hard) - prices.cost(large, *hard)) + prices.cost(small, *first)
    assert saved == pytest.approx(expected, rel=1e-6), (
        f"expected ${expected:.8f} saved against a baseline of {small} (large_model={small!r}); "
        f"got {shown(saved)}. Price the baseline on the large_model argument."
    )
