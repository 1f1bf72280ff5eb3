"""Exercise 6: give traces metadata, then find them by what they carry.

In production you rarely look at one trace at random: you look for "the failed
requests of this session", "everything from the email channel since 10:00",
"the trace of the request our support desk is asking about". That only works
if every trace carries that information, and if you can search for it.

1. ``handle_request`` (a stand-in support bot) is traced. Give its trace a
   ``channel`` tag, the user and the session as MLflow's standard trace
   metadata, and the caller's request id as the trace's *client request id*,
   all with ``mlflow.update_current_trace``, before anything can fail.
2. ``find_traces`` finds the ids of an experiment's traces by tag, status,
   session and time window with ``mlflow.search_traces(filter_string=...)``.
   The filter language, on SQLite and on a tracking server alike:

       tags.channel = 'web'
       trace.status = 'ERROR'                       (OK, ERROR)
       metadata.`mlflow.trace.session` = 's-1'      (backticks around dotted keys)
       trace.timestamp_ms >= 1740819600000          (milliseconds since the epoch)
       trace.client_request_id = 'req-42'
       ... joined by AND (there is no OR)

3. ``trace_for_request``: the trace of one client request id.

MLflow API practised: ``mlflow.update_current_trace(tags=, user=, session_id=,
client_request_id=)``, ``mlflow.search_traces(locations=, filter_string=,
order_by=, return_type=)``.

Done looks like this: in the UI's Traces tab, the tag, user, session and
request id columns are filled in, and the same filters you wrote in code work
in its search box.

Run the checks: ``uv run pytest exercises/module_02/test_ex06_trace_metadata_search.py``
"""

from __future__ import annotations

from datetime import datetime

import mlflow  # noqa: F401 - you will need it

CHANNEL_TAG = "channel"


def handle_request(
    question: str, user: str, session_id: str, request_id: str, channel: str = "web"
) -> str:
    """Answer one request of a support bot, as one trace that carries who, where and which.

    On the trace (``mlflow.update_current_trace``), before anything can fail:
    - the tag ``CHANNEL_TAG`` = ``channel`` ("web", "email", "chat" ...);
    - the user and the session, as MLflow's standard trace metadata (so the UI
      and ``mlflow.search_sessions`` group them);
    - ``request_id`` as the trace's client request id (the id your own system
      gave the request, to find its trace later).

    A blank question raises ``ValueError("empty question")`` (the trace ends in
    ERROR, still carrying all of the above). Otherwise it returns
    ``f"Thanks {user}, we are looking into: {question}"``.
    """
    # TODO: trace this function (e.g. @mlflow.trace); update the current trace with the tag,
    #       the user, the session and the client request id; then check the question and
    #       answer it.
    raise NotImplementedError("handle_request: not written yet (see the TODO above)")


def find_traces(
    experiment_id: str,
    channel: str | None = None,
    status: str | None = None,
    session_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[str]:
    """The ids of the experiment's traces that match every criterion given, oldest first.

    - ``channel``: the ``CHANNEL_TAG`` tag;
    - ``status``: ``"OK"`` or ``"ERROR"``;
    - ``session_id``: the session in the trace metadata;
    - ``start`` / ``end``: timezone-aware datetimes; a trace matches when it
      started at ``start`` or later and before ``end`` (``start <= t < end``).

    Use ``mlflow.search_traces`` with a filter string (clauses joined by ``AND``).
    """
    # TODO: build one filter clause per criterion given, join them with AND, search the
    #       experiment's traces oldest first and return their ids.
    raise NotImplementedError("find_traces: not written yet (see the TODO above)")


def trace_for_request(experiment_id: str, request_id: str) -> str | None:
    """The id of the trace whose client request id is ``request_id``, or None."""
    # TODO: search the experiment's traces by client request id.
    raise NotImplementedError("trace_for_request: not written yet (see the TODO above)")
