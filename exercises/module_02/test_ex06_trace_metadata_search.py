"""Checks for ex06_trace_metadata_search: tags, user, session and request id; finding traces."""

import contextlib
from datetime import UTC, datetime, timedelta

import mlflow
import pytest

from fixtures.clock import frozen_clock
from fixtures.messages import shown
from fixtures.snapshots import store_snapshot
from fixtures.traces import only_trace, trace_status

USER_KEY = "mlflow.trace.user"
SESSION_KEY = "mlflow.trace.session"
NINE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
OTHER_BOT = "kata-other-bot"


def _at(hours: float) -> datetime:
    return NINE + timedelta(hours=hours)


def _user_tags(tags):
    return {k: v for k, v in tags.items() if not k.startswith("mlflow.")}


# --- handle_request: what a trace carries ---------------------------------------------------


def test_handle_request_thanks_the_user_and_repeats_the_question(exercise):
    reply = exercise.handle_request("Where is my parcel?", "ada", "s-1", "req-42")

    expected = "Thanks ada, we are looking into: Where is my parcel?"
    assert reply == expected, f"expected handle_request to return {expected!r}; got {shown(reply)}"


def test_the_trace_is_tagged_with_the_channel(exercise):
    exercise.handle_request("Where is my parcel?", "ada", "s-1", "req-42", channel="email")

    tags = only_trace().info.tags
    assert tags.get("channel") == "email", (
        f"expected the trace to carry the tag channel='email'; found tags {_user_tags(tags)}"
    )


def test_the_channel_tag_defaults_to_web(exercise):
    exercise.handle_request("Where is my parcel?", "ada", "s-1", "req-42")

    tags = only_trace().info.tags
    assert tags.get("channel") == "web", (
        f"expected the trace of a request with the default channel to carry the tag "
        f"channel='web'; found tags {_user_tags(tags)}"
    )


def test_user_and_session_are_mlflow_standard_trace_metadata(exercise):
    exercise.handle_request("Where is my parcel?", "ada", "s-1", "req-42")

    info = only_trace().info
    found = {k: info.trace_metadata.get(k) for k in (USER_KEY, SESSION_KEY)}
    assert found == {USER_KEY: "ada", SESSION_KEY: "s-1"}, (
        f"expected the trace metadata to hold the user and the session under MLflow's standard "
        f"keys, {{{USER_KEY!r}: 'ada', {SESSION_KEY!r}: 's-1'}}; found {found} (tags: "
        f"{_user_tags(info.tags)}). "
        "mlflow.update_current_trace(user=..., session_id=...) puts them there."
    )


def test_the_request_id_is_the_client_request_id(exercise):
    exercise.handle_request("Where is my parcel?", "ada", "s-1", "req-42")

    found = only_trace().info.client_request_id
    assert found == "req-42", (
        f"expected the trace's client_request_id to be 'req-42'; found {found!r}"
    )


def test_a_failed_request_is_an_error_trace_that_keeps_its_metadata(exercise):
    with pytest.raises(ValueError, match="empty question"):
        exercise.handle_request("   ", "ada", "s-1", "req-43", channel="chat")

    info = only_trace().info
    assert trace_status(only_trace()) == "ERROR", (
        f"expected the trace of a failed request to be in ERROR; found {info.state}"
    )
    found = (info.tags.get("channel"), info.trace_metadata.get(SESSION_KEY), info.client_request_id)
    assert found == ("chat", "s-1", "req-43"), (
        "expected the failed request's trace to still carry its channel, session and request "
        f"id ('chat', 's-1', 'req-43'); found {found}. Update the trace before the question "
        "is checked."
    )


# --- find_traces and trace_for_request: searching ---------------------------------------------

TRAFFIC = [  # hours after 09:00 UTC, session, channel, fails?
    (0.0, "s-1", "web", False),
    (0.5, "s-1", "email", False),
    (1.0, "s-2", "web", True),
    (1.5, "s-2", "email", False),
    (2.0, "s-1", "web", True),
    (2.5, "s-3", "chat", False),
]


@mlflow.trace
def _request(number, session, channel, fails):
    mlflow.update_current_trace(
        tags={"channel": channel}, session_id=session, client_request_id=f"req-{number}"
    )
    if fails:
        raise RuntimeError("the bot failed")
    return "ok"


def _record_traffic(experiment_name, rows):
    experiment_id = mlflow.set_experiment(experiment_name).experiment_id
    ids = []
    with frozen_clock(NINE) as clock:
        for number, (hours, session, channel, fails) in enumerate(rows):
            clock.move_to(_at(hours))
            with contextlib.suppress(RuntimeError):
                _request(number, session, channel, fails)
            ids.append(mlflow.get_last_active_trace_id())
    return experiment_id, ids


@store_snapshot
def recorded_traffic():
    """Six traces of a support bot at known times (see TRAFFIC), made without the learner's
    code, and one more in another experiment that no search may return."""
    experiment_id, ids = _record_traffic("kata-support-bot", TRAFFIC)
    _record_traffic(OTHER_BOT, [(1.0, "s-1", "web", True)])
    return {"experiment_id": experiment_id, "ids": ids}


@pytest.fixture
def traffic(recorded_traffic):
    """(experiment id, trace ids) of the recorded traffic. The other experiment is the
    active one when the searches run: they must look only in the experiment they are
    given."""
    mlflow.set_experiment(OTHER_BOT)
    return recorded_traffic["experiment_id"], recorded_traffic["ids"]


def _named(ids, found):
    """Trace ids as 'trace #n' (row n of TRAFFIC), for messages."""
    if not isinstance(found, list | tuple):
        return shown(found)
    return [
        f"#{ids.index(t)}" if t in ids else f"{shown(t)} (not in this experiment)" for t in found
    ]


def _check(exercise, traffic, expected_rows, what, **criteria):
    experiment_id, ids = traffic
    found = exercise.find_traces(experiment_id, **criteria)
    expected = [ids[row] for row in expected_rows]
    assert found == expected, (
        f"expected find_traces({what}) to return traces {_named(ids, expected)} of TRAFFIC "
        f"(oldest first); got {_named(ids, found)}"
    )


def test_without_criteria_every_trace_of_the_experiment_oldest_first(exercise, traffic):
    _check(exercise, traffic, [0, 1, 2, 3, 4, 5], "no criteria")


def test_find_traces_by_channel_tag_by_status_or_by_session(exercise, traffic):
    _check(exercise, traffic, [0, 2, 4], "channel='web'", channel="web")
    _check(exercise, traffic, [2, 4], "status='ERROR'", status="ERROR")
    _check(exercise, traffic, [0, 1, 3, 5], "status='OK'", status="OK")
    _check(exercise, traffic, [0, 1, 4], "session_id='s-1'", session_id="s-1")


def test_find_traces_in_a_time_window_that_includes_its_start_and_excludes_its_end(
    exercise, traffic
):
    _check(exercise, traffic, [2, 3], "start=10:00, end=11:00", start=_at(1), end=_at(2))


def test_find_traces_with_every_criterion_at_once(exercise, traffic):
    _check(
        exercise,
        traffic,
        [4],
        "session_id='s-1', channel='web', status='ERROR', start=09:30",
        session_id="s-1",
        channel="web",
        status="ERROR",
        start=_at(0.5),
    )
    _check(exercise, traffic, [3], "channel='email', start=10:00", channel="email", start=_at(1))


def test_trace_for_request_finds_a_trace_by_its_client_request_id(exercise, traffic):
    experiment_id, ids = traffic

    found = exercise.trace_for_request(experiment_id, "req-3")
    missing = exercise.trace_for_request(experiment_id, "req-99")

    assert found == ids[3], (
        f"expected trace #3 for the request id 'req-3'; got {_named(ids, [found])}"
    )
    assert missing is None, f"expected None for an unknown request id; got {shown(missing)}"


def test_trace_for_request_looks_only_in_the_experiment_it_is_given(exercise, traffic):
    experiment_id, ids = traffic

    found = exercise.trace_for_request(experiment_id, "req-0")

    assert found == ids[0], (
        "expected trace #0 of the given experiment for 'req-0' (another experiment, the active "
        f"one, has a request 'req-0' too); got {_named(ids, [found])}"
    )
