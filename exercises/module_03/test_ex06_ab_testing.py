"""Checks for ex06_ab_testing: a stable split, the version on each trace, stats per version."""

import builtins
import time

import mlflow
import openai
import pytest
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource, AssessmentSourceType

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.llm_server import Failure
from fixtures.messages import shown
from fixtures.prompt_quality import answer, prompt_quality_responder
from fixtures.prompts import linked_prompts
from fixtures.snapshots import store_snapshot
from fixtures.traces import last_trace, span_tree, trace_of

NAME = "sentiment"
V1 = "Is this review positive or negative?\nReview: {{text}}"
V2 = "Label the review as positive, negative or neutral.\nReview: {{text}}"
TEMPLATES = {1: V1, 2: V2}
USERS = [f"user-{i}" for i in range(40)]
NEUTRAL = "The lamp arrived on Tuesday in a brown box."


@pytest.fixture
def versions():
    mlflow.genai.register_prompt(name=NAME, template=V1)
    mlflow.genai.register_prompt(name=NAME, template=V2)


@pytest.fixture
def llm(fake_llm_env):
    """The fake OpenAI server, answering like a model that only uses the labels a
    prompt names (fixtures/prompt_quality.py): version 1 never says "neutral"."""
    fake_llm_env.responder = prompt_quality_responder
    return fake_llm_env


# --- the split ------------------------------------------------------------------------


def test_the_same_user_always_gets_the_same_version(exercise):
    seen = {user: {exercise.choose_version(user, 1, 2) for _ in range(5)} for user in USERS}

    both = sorted(user for user, got in seen.items() if len(got) > 1)
    assert not both, (
        f"expected each user to get one version on every call; {len(both)} of {len(USERS)} "
        f"users got both, e.g. {both[:3]}. Derive the choice from the user id alone, "
        "not from a random draw."
    )


def test_the_split_is_the_same_in_another_python_process(exercise, monkeypatch):
    here = [exercise.choose_version(user, 1, 2) for user in USERS]

    # Another process (a restart, a second server) hashes strings with another random
    # salt: there, Python's hash() gives other numbers for the same user id.
    salted = builtins.hash
    monkeypatch.setattr(builtins, "hash", lambda value: salted(("another process", value)))
    there = [exercise.choose_version(user, 1, 2) for user in USERS]
    monkeypatch.undo()

    moved = [user for user, a, b in zip(USERS, here, there, strict=True) if a != b]
    assert not moved, (
        f"expected a user to get the same version in every process (after a restart, on "
        f"another server); {len(moved)} of {len(USERS)} users changed version when string "
        f"hashes changed as they do in a new process, e.g. {moved[:3]}. Python's hash() of a "
        "string differs from one process to the next: use a stable digest (hashlib.sha256)."
    )


def test_the_split_sends_about_share_b_of_the_users_to_version_b(exercise):
    users = [f"customer-{i}" for i in range(1000)]

    for share_b, low, high in [(0.5, 400, 600), (0.2, 130, 270)]:
        got = [exercise.choose_version(user, 3, 7, share_b) for user in users]

        assert set(got) <= {3, 7}, f"expected only versions 3 and 7; got {sorted(set(got))}"
        assert low <= got.count(7) <= high, (
            f"expected about {share_b:.0%} of 1000 users on version B, 7 (between {low} and "
            f"{high}) with share_b={share_b}; {got.count(7)} got it"
        )


def test_a_share_of_zero_or_one_sends_everybody_to_one_version(exercise):
    none_to_b = {exercise.choose_version(user, 1, 2, 0.0) for user in USERS}
    all_to_b = {exercise.choose_version(user, 1, 2, 1.0) for user in USERS}

    assert (none_to_b, all_to_b) == ({1}, {2}), (
        "expected share_b=0.0 to send every user to version A (1) and share_b=1.0 every user "
        f"to version B (2); got versions {sorted(none_to_b)} and {sorted(all_to_b)}"
    )


# --- requests -------------------------------------------------------------------------


def _one_of_each(exercise) -> list[tuple[str, int]]:
    """A user that the split sends to version 1 and one it sends to version 2."""
    chosen = [(user, exercise.choose_version(user, 1, 2)) for user in USERS]
    return [p for p in chosen if p[1] == 1][:1] + [p for p in chosen if p[1] == 2][:1]


def test_handle_request_records_its_version_and_user_on_the_trace(exercise, versions, llm):
    for user, version in _one_of_each(exercise):
        _, trace = trace_of(exercise.handle_request, user, NEUTRAL)

        tags, metadata = trace.info.tags, trace.info.trace_metadata
        assert tags.get("prompt_version") == str(version), (
            f"expected the trace of {user}'s request to carry the tag prompt_version="
            f"{str(version)!r} (choose_version gives {user} version {version}); found "
            f"{tags.get('prompt_version')!r}. Use mlflow.update_current_trace(tags=...)."
        )
        assert metadata.get("mlflow.trace.user") == user, (
            f"expected the trace to record the user {user!r} "
            "(mlflow.update_current_trace(user=...)); found "
            f"{metadata.get('mlflow.trace.user')!r}"
        )
        prompts = linked_prompts(trace)
        assert prompts == [f"{NAME}/{version}"], (
            f"expected the trace to be linked to {NAME}/{version}; linked prompts: "
            f"{prompts or 'none'}. Load the prompt inside the traced function."
        )


def test_handle_request_asks_the_model_with_the_chosen_versions_wording(exercise, versions, llm):
    for user, version in _one_of_each(exercise):
        reply = exercise.handle_request(user, NEUTRAL)

        prompt = TEMPLATES[version].replace("{{text}}", NEUTRAL)
        sent = llm.chat_requests[-1].body["messages"] if llm.chat_requests else "nothing"
        assert sent == [{"role": "user", "content": prompt}], (
            f"expected {user}'s request to send version {version}'s prompt, filled in, as one "
            f"user message: {prompt!r}; the model received {sent!r}"
        )
        assert reply == answer(prompt), (
            f"expected handle_request to return the model's answer {answer(prompt)!r}; "
            f"got {shown(reply)}"
        )


def test_handle_request_asks_the_model_named_by_MODEL(exercise, versions, llm):
    exercise.handle_request("user-1", NEUTRAL)

    models = [request.body.get("model") for request in llm.chat_requests]
    assert models == ["gpt-4o-mini"], (
        f"expected one chat completions request for the model MODEL, 'gpt-4o-mini'; the "
        f"server received requests for {models or 'no model at all'}"
    )


def test_handle_request_returns_the_answer_stripped_and_lower_cased(exercise, versions, llm):
    llm.script("  Neutral\n")

    reply = exercise.handle_request("user-1", NEUTRAL)

    assert reply == "neutral", (
        "expected handle_request to return the model's answer '  Neutral\\n' stripped and "
        f"lower-cased, 'neutral'; got {shown(reply)}"
    )


def test_a_failed_request_is_an_error_trace_still_tagged_with_its_version(exercise, versions, llm):
    llm.script(Failure(400, "the model is overloaded"))

    with pytest.raises(openai.APIError):
        exercise.handle_request("user-1", NEUTRAL)

    trace = last_trace()
    version = exercise.choose_version("user-1", 1, 2)
    assert str(trace.info.state) == "ERROR", (
        f"expected the failed request's trace to be in state ERROR; found {trace.info.state}:\n"
        f"{span_tree(trace)}"
    )
    assert trace.info.tags.get("prompt_version") == str(version), (
        f"expected the failed request's trace to carry prompt_version={str(version)!r} all the "
        f"same, or its error would count for no version; found "
        f"{trace.info.tags.get('prompt_version')!r}. Tag the trace before calling the model."
    )


def test_record_feedback_logs_a_human_thumbs_up_or_down_on_the_trace(exercise):
    @mlflow.trace
    def request(review):
        return "neutral"

    request(NEUTRAL)
    trace_id = mlflow.get_last_active_trace_id()

    exercise.record_feedback(trace_id, "user-9", False)

    found = assessments(trace_id, name="thumbs_up", source_type="HUMAN")
    assert len(found) == 1 and assessment_value(found[0]) is False, (
        "expected one HUMAN feedback named 'thumbs_up' with the value False on the trace; "
        f"found {describe_assessments(assessments(trace_id))}"
    )
    assert found[0].source.source_id == "user-9", (
        f"expected the feedback's source id to be the user, 'user-9'; found "
        f"{found[0].source.source_id!r}"
    )


# --- stats ------------------------------------------------------------------------------


@store_snapshot
def ab_traces():
    """Traces of an A/B test built with MLflow's API, with known latencies, errors and
    feedback (built once, copied into each test's store); returns the experiment ids.

    version 1: 4 requests (100, 200, 300, 400 ms), 1 error, thumbs_up 👍 and 👎 on two,
               and a feedback of another name (relevance) on a third
    version 2: 2 requests (50, 150 ms), no error, no thumbs_up (one relevance feedback)
    also: an untagged trace in the experiment, and a tagged one in another experiment
    """
    client = MlflowClient()
    other = mlflow.create_experiment("elsewhere")
    experiment = mlflow.create_experiment("ab-test")
    start = time.time_ns()

    def request(version, ms, status="OK", feedback=None, experiment_id=experiment, name=None):
        tags = {"prompt_version": str(version)} if version else {}
        span = client.start_trace(
            "handle_request", tags=tags, experiment_id=experiment_id, start_time_ns=start
        )
        client.end_trace(span.trace_id, status=status, end_time_ns=start + ms * 1_000_000)
        if feedback is not None:
            mlflow.log_feedback(
                trace_id=span.trace_id,
                name=name or "thumbs_up",
                value=feedback,
                source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="u"),
            )

    request(1, 100, feedback=True)
    request(1, 200, status="ERROR")
    request(1, 300, feedback=False)
    request(1, 400, feedback=False, name="relevance")
    request(2, 50, feedback=True, name="relevance")
    request(2, 150)
    request(None, 5000, status="ERROR")
    request(2, 9000, status="ERROR", feedback=False, experiment_id=other)
    mlflow.flush_trace_async_logging()
    return {"experiment": experiment, "other": other}


def _stats(found, version):
    assert isinstance(found, dict), (
        f"expected version_stats to return a dict {{version: VersionStats}}; got {shown(found)}"
    )
    item = found.get(version)
    assert item is not None, (
        f"expected version_stats to have an entry for version {version} (an int key); "
        f"found keys {shown(list(found))}"
    )
    return item


def _counts(found) -> dict:
    """{version: (requests, error_rate, mean_latency_ms)} of whatever version_stats returned."""
    if not isinstance(found, dict):
        return {"not a dict": shown(found)}
    return {
        version: tuple(
            getattr(item, field, None) for field in ("requests", "error_rate", "mean_latency_ms")
        )
        for version, item in found.items()
    }


EXPECTED = {1: (4, 0.25, 250.0), 2: (2, 0.0, 100.0)}


def _matches(got: dict, expected: dict) -> bool:
    def close(value, wanted) -> bool:
        return isinstance(value, int | float) and abs(value - wanted) < 1e-6

    return set(got) == set(expected) and all(
        len(got[v]) == len(expected[v]) and all(map(close, got[v], expected[v])) for v in expected
    )


def test_version_stats_count_requests_errors_and_latency_per_version(exercise, ab_traces):
    mlflow.set_experiment(experiment_id=ab_traces["other"])  # another experiment is active

    found = exercise.version_stats(ab_traces["experiment"])

    got = _counts(found)
    assert _matches(got, EXPECTED), (
        "expected (requests, error_rate, mean_latency_ms) = (4, 0.25, 250.0) for version 1 "
        f"and (2, 0.0, 100.0) for version 2, and no other key; found {got}. Only the traces "
        "of the given experiment count (even while another experiment is active), and an "
        "untagged trace counts for no version."
    )


def test_version_stats_reads_the_active_experiment_when_given_none(exercise, ab_traces):
    mlflow.set_experiment(experiment_id=ab_traces["experiment"])

    found = exercise.version_stats()

    got = _counts(found)
    assert _matches(got, EXPECTED), (
        "expected version_stats() to read the active experiment, ab-test: (4, 0.25, 250.0) "
        f"for version 1 and (2, 0.0, 100.0) for version 2; found {got}. The experiment "
        "'elsewhere' holds a version 2 trace that must not count."
    )


def test_version_stats_thumbs_up_rate_counts_only_requests_with_thumbs_up_feedback(
    exercise, ab_traces
):
    found = exercise.version_stats(ab_traces["experiment"])

    rates = (
        getattr(_stats(found, 1), "thumbs_up_rate", "missing"),
        getattr(_stats(found, 2), "thumbs_up_rate", "missing"),
    )
    assert rates[0] == pytest.approx(0.5) and rates[1] is None, (
        "expected thumbs_up_rate 0.5 for version 1 (one 👍 and one 👎 among its 4 requests: "
        "requests without thumbs_up feedback do not count, nor does a feedback of another "
        f"name) and None for version 2 (no thumbs_up feedback at all); found {shown(rates)}"
    )
