"""Checks for ex05_resilient_agent: retries with exponential backoff on transient errors,
a fallback model, and every failed attempt recorded in the answer's trace."""

import mlflow
import openai
import pytest

from fixtures.llm_server import Failure
from fixtures.messages import shown
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
        f"expected Answer.trace_id to be the id of the answer's trace; got {shown(result)}"
    )
    return trace


def _got(result):
    """(text, model) of what answer() returned, whatever it returned."""
    return (getattr(result, "text", None), getattr(result, "model", None))


def _attempts(trace):
    spans = find_spans(trace, span_type="CHAT_MODEL")
    return [span_status(s) for s in spans]


def test_a_healthy_model_answers_at_the_first_attempt(exercise, fake_llm_env):
    fake_llm_env.script("Click 'Forgot password'.")
    delays = []

    result = _ask(exercise, delays)

    assert _got(result) == ("Click 'Forgot password'.", exercise.PRIMARY_MODEL), (
        f"expected the primary model's answer; got {shown(result)}"
    )
    assert _models_called(fake_llm_env) == [exercise.PRIMARY_MODEL] and delays == [], (
        f"expected one call and no waiting; calls: {_models_called(fake_llm_env)}, waits: {delays}"
    )


def test_the_answer_is_one_trace_with_an_agent_span_and_the_model_call(exercise, fake_llm_env):
    fake_llm_env.script("Click 'Forgot password'.")

    trace = _trace_of(_ask(exercise, []))

    root = root_span(trace)
    assert getattr(root, "span_type", None) == "AGENT" and _attempts(trace) == ["OK"], (
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

    assert _got(result) == ("Done at last.", exercise.PRIMARY_MODEL), (
        f"expected the primary model to answer at its third attempt; got {shown(result)}"
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
    assert _got(result) == ("Fallback here.", exercise.FALLBACK_MODEL), (
        f"expected the fallback model's answer; got {shown(result)}"
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
    assert _got(result)[1] == exercise.FALLBACK_MODEL, (
        f"expected the fallback to answer; got {shown(result)}"
    )


def test_the_fallback_model_gets_its_own_attempts_and_backoff(exercise, fake_llm_env):
    fake_llm_env.script(*[Failure(503)] * 5, "Third time lucky.")
    delays = []

    result = _ask(exercise, delays)

    calls = _models_called(fake_llm_env)
    expected = [exercise.PRIMARY_MODEL] * 3 + [exercise.FALLBACK_MODEL] * 3
    assert calls == expected and _got(result) == ("Third time lucky.", exercise.FALLBACK_MODEL), (
        f"expected three attempts of the primary model, then up to three of the fallback, "
        f"which answers at its third: calls {expected}; found calls {calls}, answer "
        f"{shown(result)}"
    )
    assert delays == [0.5, 1.0, 0.5, 1.0], (
        "expected the backoff to start again for the fallback model: waits [0.5, 1.0] for the "
        f"primary, then [0.5, 1.0] for the fallback; found {delays}"
    )


def test_the_system_prompt_and_the_question_are_sent_to_the_model(exercise, fake_llm_env):
    fake_llm_env.script("Click 'Forgot password'.")

    _ask(exercise, [])

    requests = fake_llm_env.chat_requests
    messages = (
        [(m.get("role"), m.get("content")) for m in (requests[0].body or {}).get("messages", [])]
        if requests
        else []
    )
    expected = [("system", exercise.SYSTEM_PROMPT), ("user", QUESTION)]
    assert messages == expected, (
        f"expected the model to get the system prompt and the question, {expected}; it got "
        f"{shown(messages)}"
    )


def test_when_every_model_fails_the_error_reaches_the_caller_and_the_trace(exercise, fake_llm_env):
    fake_llm_env.script(*[Failure(503)] * 5, Failure(429, "rate limited"))

    raised = None
    try:
        exercise.answer(QUESTION, sleep=[].append)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - what it raised is the point of the test
        raised = err
    assert isinstance(raised, openai.RateLimitError), (
        "expected answer to raise the fallback model's last error (here the 429, an "
        "openai.RateLimitError) when every attempt of both models failed; it "
        + (f"raised {type(raised).__name__}: {shown(str(raised))}" if raised else "returned")
        + " (a made-up answer hides the outage)"
    )

    trace_id = mlflow.get_last_active_trace_id()
    trace = mlflow.get_trace(trace_id) if trace_id else None
    assert trace is not None, "expected the failed request to leave a trace; found none"
    assert trace_status(trace) == "ERROR", (
        f"expected the trace of the failed request to end with status ERROR; found "
        f"{trace_status(trace)}"
    )
    assert _attempts(trace) == ["ERROR"] * 6, (
        "expected six failed attempts (three per model) in the trace; found spans:\n"
        + span_tree(trace)
    )
