"""Checks for ex03_serving_api: the champion behind an authenticated, rate-limited, traced API."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from mlflow.tracing.export.async_export_queue import Task

from fixtures.clock import frozen_clock
from fixtures.messages import shown
from fixtures.production import (
    FAIL_QUESTION,
    good_answers,
    register_canned_agent,
    sse_data,
    trace_text,
)
from fixtures.serving import serve_app
from fixtures.snapshots import store_snapshot
from fixtures.traces import find_spans, search_traces, span_tree, trace_status

ALICE, BOB = "key-alice-5f2c9d1e", "key-bob-81e7aa40"
KEYS = [ALICE, BOB]
QUESTION, ANSWER = next(iter(good_answers().items()))
GUARDED = ["/predict", "/stream"]


def _champion():
    """support-agent@champion: a ResponsesAgent that knows the evaluation set's answers."""
    version = register_canned_agent("support-agent", good_answers(), alias="champion")
    return {"version": version.version}


champion = store_snapshot(_champion, name="champion", autouse=True)  # built once, copied


def ask(client, path="/predict", key=ALICE, question=QUESTION, **headers):
    if key is not None:
        headers["X-API-Key"] = key
    return client.post(path, json={"question": question}, headers=headers)


def json_of(response) -> dict:
    """The response's JSON object, or {} when the body is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def traces_with_request_id(request_id):
    return search_traces(filter_string=f"trace.client_request_id = '{request_id}'")


def test_health_answers_without_a_key(exercise):
    with TestClient(exercise.create_app(KEYS)) as client:
        response = client.get("/health")

    assert response.status_code == 200, (
        f"expected GET /health to answer 200 without any key; got {response.status_code} "
        f"{response.text}"
    )


def test_predict_serves_the_champions_answer(exercise):
    with TestClient(exercise.create_app(KEYS)) as client:
        response = ask(client)

    assert response.status_code == 200, f"expected 200; got {response.status_code} {response.text}"
    body = json_of(response)
    assert body.get("answer") == ANSWER, f"expected the champion's answer {ANSWER!r}; got {body}"
    assert body.get("request_id") and body.get("trace_id"), (
        f"expected the body to carry request_id and trace_id too; got {body}"
    )


@pytest.mark.parametrize("path", GUARDED)
def test_every_route_but_health_rejects_a_missing_or_wrong_key(exercise, path):
    with TestClient(exercise.create_app(KEYS)) as client:
        missing = ask(client, path, key=None)
        wrong = ask(client, path, key="key-mallory-000000")

    for response, expected, what in [(missing, 401, "no"), (wrong, 403, "a wrong")]:
        assert response.status_code == expected, (
            f"expected POST {path} with {what} X-API-Key header to be refused with "
            f"{expected}; got {response.status_code} {response.text}"
        )
        assert "error" in json_of(response), (
            f"expected the {expected} to be a JSON object with an 'error'; got {response.text}"
        )
    assert search_traces() == [], (
        "expected refused requests never to reach the agent; traces were recorded"
    )


@pytest.mark.parametrize("path", GUARDED)
def test_each_request_is_one_trace_with_its_client_request_id(exercise, path):
    with TestClient(exercise.create_app(KEYS)) as client:
        response = ask(client, path, **{"X-Request-ID": "req-0042"})

    assert response.headers.get("X-Request-ID") == "req-0042", (
        f"expected the response to echo the X-Request-ID header; got headers "
        f"{dict(response.headers)}"
    )
    every = search_traces()
    found = traces_with_request_id("req-0042")
    assert len(found) == 1 and len(every) == 1, (
        f"expected exactly one trace for the request, with client_request_id 'req-0042' "
        f"(mlflow.update_current_trace(client_request_id=...)); found {len(found)} with that "
        f"id among {len(every)} traces"
    )
    # The loaded agent's own span is an AGENT span; the request's span may be of any type
    # (AGENT too), so look for an AGENT span that has a parent.
    nested = [s for s in find_spans(found[0], span_type="AGENT") if s.parent_id is not None]
    assert nested, (
        f"expected the agent's span (AGENT) under the request's own span, in the same trace; "
        f"found spans:\n{span_tree(found[0])}"
    )
    if path == "/predict":
        body = json_of(response)
        assert body.get("trace_id") == found[0].info.trace_id, (
            f"expected trace_id {found[0].info.trace_id} in the body; got {response.text}"
        )
        assert body.get("request_id") == "req-0042", (
            f"expected request_id 'req-0042' (the X-Request-ID header) in the body; got "
            f"{response.text}"
        )


def test_a_request_without_a_request_id_gets_a_new_one(exercise):
    with TestClient(exercise.create_app(KEYS)) as client:
        response = ask(client)

    request_id = response.headers.get("X-Request-ID")
    assert request_id, f"expected an X-Request-ID response header; got {dict(response.headers)}"
    assert len(traces_with_request_id(request_id)) == 1, (
        f"expected the trace's client_request_id to be the new id {request_id!r}; traces: "
        f"{[t.info.client_request_id for t in search_traces()]}"
    )


def test_a_failing_agent_gives_a_json_error_and_an_error_trace(exercise):
    app = exercise.create_app(KEYS)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = ask(client, question=FAIL_QUESTION, **{"X-Request-ID": "req-boom"})

    assert response.status_code == 500 and "error" in json_of(response), (
        f"expected a failing agent to give a 500 with a JSON 'error'; got "
        f"{response.status_code} {response.text}"
    )
    found = traces_with_request_id("req-boom")
    assert len(found) == 1 and trace_status(found[0]) == "ERROR", (
        f"expected one ERROR trace for request 'req-boom'; found "
        f"{[(t.info.client_request_id, trace_status(t)) for t in search_traces()]}"
    )


def test_no_api_key_is_stored_in_any_trace(exercise):
    with TestClient(exercise.create_app(KEYS)) as client:
        ask(client, "/predict", key=ALICE)
        ask(client, "/stream", key=BOB)
        ask(client, "/predict", key=BOB, question=FAIL_QUESTION)

    traces = search_traces()
    assert len(traces) == 3, f"expected 3 traces; found {len(traces)}"
    leaks = [t.info.trace_id for t in traces for key in KEYS if key in trace_text(t)]
    assert not leaks, (
        f"expected no API key anywhere in a trace; found one in {leaks}. Record the question, "
        "not the request's headers."
    )


def test_requests_over_the_limit_get_429_with_retry_after(exercise):
    app = exercise.create_app(KEYS, rate_limit=3, window_seconds=60)
    with frozen_clock("2025-06-02 12:00:00") as clock, TestClient(app) as client:
        allowed = [ask(client).status_code for _ in range(3)]
        refused = ask(client)
        retry_after = refused.headers.get("Retry-After")
        if retry_after and retry_after.isdigit():
            clock.tick(int(retry_after))
        later = ask(client)

    assert allowed == [200, 200, 200], f"expected 3 requests to pass; got {allowed}"
    assert refused.status_code == 429 and "error" in json_of(refused), (
        f"expected the 4th request within the minute to get 429 with a JSON 'error'; got "
        f"{refused.status_code} {refused.text}"
    )
    assert retry_after and retry_after.isdigit() and 1 <= int(retry_after) <= 60, (
        f"expected a Retry-After header of 1 to 60 whole seconds; got {retry_after!r}"
    )
    assert later.status_code == 200, (
        f"expected the key to be allowed again after waiting Retry-After={retry_after} "
        f"seconds (the clock is frozen; read it with time.time() or time.monotonic()); "
        f"got {later.status_code}"
    )


def test_the_rate_limiter_does_not_count_refused_requests(exercise):
    with frozen_clock("2025-06-02 12:00:00") as clock:
        limiter = exercise.RateLimiter(limit=2, window_seconds=10)
        waits = [limiter.hit("k"), limiter.hit("k")]  # t=0: both allowed
        clock.tick(5)
        waits.append(limiter.hit("k"))  # t=5: refused, 5 s until the first two leave
        clock.tick(5.5)
        waits.append(limiter.hit("k"))  # t=10.5: the window holds nothing: allowed
        clock.tick(1)
        waits.append(limiter.hit("k"))  # t=11.5: one request (t=10.5) in it: allowed

    try:
        got = [round(float(w), 3) for w in waits]
    except (TypeError, ValueError):
        got = waits
    assert got == [0.0, 0.0, 5.0, 0.0, 0.0], (
        f"expected RateLimiter(limit=2, window_seconds=10).hit at t=0, 0, 5, 10.5, 11.5 to "
        f"return [0.0, 0.0, 5.0, 0.0, 0.0] (a refused request is not counted); got "
        f"{shown(got)}"
    )


def test_the_app_keeps_serving_the_version_it_loaded_at_start(exercise):
    with TestClient(exercise.create_app(KEYS)) as client:
        register_canned_agent("support-agent", {QUESTION: "A newer answer."}, alias="champion")
        response = ask(client)

    answer = json_of(response).get("answer")
    assert answer == ANSWER, (
        f"expected the app to answer with the champion it loaded when it started ({ANSWER!r}), "
        f"even after the alias moved to a new version; got {shown(answer)}. Load the model "
        "once, in the lifespan handler, not on every request."
    )


def test_the_app_flushes_the_queued_traces_when_it_stops(exercise, tracing_settings, monkeypatch):
    app = exercise.create_app(KEYS)
    tracing_settings.async_logging(True)  # as in production: traces leave in the background
    handle = Task.handle

    def slow_export(task):
        time.sleep(0.5)  # a busy tracking server: the trace is still queued when the app stops
        handle(task)

    monkeypatch.setattr(Task, "handle", slow_export)
    with TestClient(app) as client:
        response = ask(client, **{"X-Request-ID": "req-shutdown"})

    assert response.status_code == 200, f"expected 200; got {response.status_code}"
    stored = search_traces(flush=False)  # what is in the store, without flushing for the app
    assert len(stored) == 1, (
        f"expected the request's trace in the store as soon as the app has stopped; found "
        f"{len(stored)} traces. With async logging, flush the trace queue when the app stops "
        "(mlflow.flush_trace_async_logging() in the lifespan handler)."
    )


def test_the_limit_is_counted_per_key(exercise):
    app = exercise.create_app(KEYS, rate_limit=2, window_seconds=60)
    with frozen_clock("2025-06-02 12:00:00"), TestClient(app) as client:
        alice = [ask(client, key=ALICE).status_code for _ in range(3)]
        bob = [ask(client, key=BOB).status_code for _ in range(2)]

    assert alice == [200, 200, 429] and bob == [200, 200], (
        f"expected each key to get its own 2 requests per minute: alice [200, 200, 429], "
        f"bob [200, 200]; got alice {alice}, bob {bob}"
    )


def test_a_body_over_the_size_limit_is_refused_with_413(exercise):
    with TestClient(exercise.create_app(KEYS, max_body_bytes=1_000)) as client:
        response = ask(client, question="x" * 2_000)

    assert response.status_code == 413 and "error" in json_of(response), (
        f"expected a 2,000-byte body over the 1,000-byte limit to get 413 with a JSON "
        f"'error'; got {response.status_code} {response.text[:200]}"
    )
    assert search_traces() == [], "expected a refused body never to reach the agent"


def test_stream_sends_the_answer_as_server_sent_events(exercise):
    with TestClient(exercise.create_app(KEYS)) as client:
        response = ask(client, "/stream")

    assert response.status_code == 200, f"expected 200; got {response.status_code}"
    assert response.headers.get("content-type", "").startswith("text/event-stream"), (
        f"expected content-type text/event-stream; got {response.headers.get('content-type')}"
    )
    payloads = sse_data(response.text)
    assert payloads and payloads[-1] == "[DONE]", (
        f"expected the last event to be 'data: [DONE]'; got events {payloads}"
    )
    deltas = [json.loads(p) for p in payloads[:-1]]
    streamed = "".join(d.get("delta", "") for d in deltas)
    assert len(deltas) > 1 and streamed == ANSWER, (
        f"expected one 'data: {{\"delta\": ...}}' event per text delta, joining to "
        f"{ANSWER!r}; got {len(deltas)} events joining to {streamed!r}"
    )


def test_a_real_server_under_a_burst_rejects_bad_keys_and_enforces_the_limit(exercise):
    app = exercise.create_app(KEYS, rate_limit=5, window_seconds=600)
    keys = [None, "key-mallory-000000", ALICE] * 8  # 24 requests, 8 at a time

    with serve_app(app) as url:

        def call(key):
            headers = {"X-API-Key": key} if key else {}
            body = {"question": QUESTION}
            return httpx.post(f"{url}/predict", json=body, headers=headers, timeout=60)

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(call, keys))

    by_key = {"none": [], "wrong": [], "valid": []}
    for key, response in zip(keys, responses, strict=True):
        name = "none" if key is None else "valid" if key == ALICE else "wrong"
        by_key[name].append(response.status_code)
    assert set(by_key["none"]) == {401} and set(by_key["wrong"]) == {403}, (
        f"expected every request without a key to get 401 and every one with a wrong key "
        f"403; got {by_key}"
    )
    assert sorted(by_key["valid"]) == [200] * 5 + [429] * 3, (
        f"expected exactly 5 of the 8 valid requests to pass (rate_limit=5) and 3 to get 429, "
        f"even when they arrive together; got {sorted(by_key['valid'])}"
    )
    assert len(search_traces()) == 5, (
        f"expected one trace per answered request (5); found {len(search_traces())}"
    )
