"""Checks for ex05_resilient_agent: retries with exponential backoff on transient errors,
a fallback model, and every failed attempt recorded in the answer's trace."""

import mlflow
import openai
import pytest

from fixtures.llm_server import Failure
from fixtures.traces import (
    exception_messages,
    find_spans,
    root_span,
    span_status,
    span_tree,
    trace_status,
)

QUESTION = "How do I reset my password?"


def _ask(exercise, delays):
    """answer(), expected to succeed: an API error it lets through fails the test."""
    try:
        return exercise.answer(QUESTION, sleep=delays.append)
    except openai.APIError as err:
        pytest.fail(
            f"expected answer to find a model that answers (retrying transient errors, then "
            f"trying {exercise.FALLBACK_MODEL}); it raised {type(err).__name__}: {err}"
        )


def _models_called(server):
    return [r.body.get("model") for r in server.chat_requests]


def _trace_of(result):
    trace = mlflow.get_trace(result.trace_id) if getattr(result, "trace_id", None) else None
    assert trace is not None, (
        f"expected Answer.trace_id to be the id of the answer's trace; got {result!r}"
    )
    return trace


def _attempts(trace):
    spans = find_spans(trace, span_type="CHAT_MODEL")
    return [span_status(s) for s in spans]


def test_a_healthy_model_answers_at_the_first_attempt(exercise, fake_llm_env):
    fake_llm_env.script("Click 'Forgot password'.")
    delays = []

    result = _ask(exercise, delays)

    assert (result.text, result.model) == ("Click 'Forgot password'.", exercise.PRIMARY_MODEL), (
        f"expected the primary model's answer; got {result!r}"
    )
    assert _models_called(fake_llm_env) == [exercise.PRIMARY_MODEL] and delays == [], (
        f"expected one call and no waiting; calls: {_models_called(fake_llm_env)}, waits: {delays}"
    )


def test_the_answer_is_one_trace_with_an_agent_span_and_the_model_call(exercise, fake_llm_env):
    fake_llm_env.script("Click 'Forgot password'.")

    trace = _trace_of(_ask(exercise, []))

    root = root_span(trace)
    assert root.span_type == "AGENT" and _attempts(trace) == ["OK"], (
        "expected an AGENT root span with one CHAT_MODEL span for the model call "
        f"(mlflow.openai.autolog() records it); found spans:\n{span_tree(trace)}"
    )
    assert trace.info.tags.get(exercise.ANSWERED_BY_TAG) == exercise.PRIMARY_MODEL, (
        f"expected the trace tag {exercise.ANSWERED_BY_TAG}={exercise.PRIMARY_MODEL!r}; "
        f"found tags {trace.info.tags}"
    )


def test_transient_errors_are_retried_with_exponential_backoff(exercise, fake_llm_env):
    fake_llm_env.script(Failure(503), Failure(503), "Done at last.")
    delays = []

    result = _ask(exercise, delays)

    assert result.text == "Done at last." and result.model == exercise.PRIMARY_MODEL, (
        f"expected the primary model to answer at its third attempt; got {result!r}"
    )
    calls = _models_called(fake_llm_env)
    assert calls == [exercise.PRIMARY_MODEL] * 3, (
        f"expected exactly three calls to the primary model (two 503s, then success); found "
        f"{calls}. Create the client with max_retries=0, so that only your code retries."
    )
    assert delays == [0.5, 1.0], (
        f"expected to wait BACKOFF_SECONDS * 2 ** (n - 1) after the n-th failure, [0.5, 1.0], "
        f"calling the sleep argument; it waited {delays}"
    )


def test_every_failed_attempt_is_an_error_span_in_the_answers_trace(exercise, fake_llm_env):
    fake_llm_env.script(Failure(503), Failure(429), "Done at last.")

    trace = _trace_of(_ask(exercise, []))

    assert _attempts(trace) == ["ERROR", "ERROR", "OK"], (
        "expected one CHAT_MODEL span per attempt: ERROR, ERROR, then OK; found spans:\n"
        + span_tree(trace)
    )
    failed = find_spans(trace, span_type="CHAT_MODEL")[0]
    assert exception_messages(failed), (
        "expected the failed attempt's span to record the exception; it has none"
    )
    assert trace_status(trace) == "OK", "expected the trace to end OK: the question was answered"


def test_the_fallback_model_answers_when_the_primary_keeps_failing(exercise, fake_llm_env):
    fake_llm_env.script(Failure(503), Failure(503), Failure(503), "Fallback here.")
    delays = []

    result = _ask(exercise, delays)

    calls = _models_called(fake_llm_env)
    expected = [exercise.PRIMARY_MODEL] * 3 + [exercise.FALLBACK_MODEL]
    assert calls == expected, f"expected the calls {expected}; found {calls}"
    assert (result.text, result.model) == ("Fallback here.", exercise.FALLBACK_MODEL), (
        f"expected the fallback model's answer; got {result!r}"
    )
    assert delays == [0.5, 1.0], (
        f"expected waits [0.5, 1.0] between the primary's attempts and none before the "
        f"fallback; found {delays}"
    )
    tags = _trace_of(result).info.tags
    assert tags.get(exercise.ANSWERED_BY_TAG) == exercise.FALLBACK_MODEL, (
        f"expected the trace tag {exercise.ANSWERED_BY_TAG}={exercise.FALLBACK_MODEL!r}; "
        f"found {tags.get(exercise.ANSWERED_BY_TAG)!r}"
    )


def test_an_error_that_is_not_transient_goes_to_the_fallback_without_retrying(
    exercise, fake_llm_env
):
    fake_llm_env.script(Failure(400, "bad request"), "Fallback here.")
    delays = []

    result = _ask(exercise, delays)

    calls = _models_called(fake_llm_env)
    expected = [exercise.PRIMARY_MODEL, exercise.FALLBACK_MODEL]
    assert calls == expected and delays == [], (
        f"expected an HTTP 400 not to be retried (it would fail again): calls {expected} and "
        f"no waiting; found calls {calls}, waits {delays}"
    )
    assert result.model == exercise.FALLBACK_MODEL, f"expected the fallback to answer: {result!r}"


def test_when_every_model_fails_the_error_reaches_the_caller_and_the_trace(exercise, fake_llm_env):
    fake_llm_env.script(*[Failure(503)] * 6)

    try:
        with pytest.raises(openai.APIError):
            exercise.answer(QUESTION, sleep=[].append)
    except pytest.fail.Exception:
        pytest.fail(
            "expected answer to raise the last API error when every attempt of both models "
            "failed; it returned instead (a made-up answer hides the outage)"
        )

    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    assert trace_status(trace) == "ERROR", (
        f"expected the trace of the failed request to end with status ERROR; found "
        f"{trace_status(trace)}"
    )
    assert _attempts(trace) == ["ERROR"] * 6, (
        "expected six failed attempts (three per model) in the trace; found spans:\n"
        + span_tree(trace)
    )
