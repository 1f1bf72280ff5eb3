"""Reference solution for module_02/ex06_trace_metadata_search: tag traces, then find them."""

from __future__ import annotations

from datetime import datetime

import mlflow

CHANNEL_TAG = "channel"


@mlflow.trace(span_type="CHAIN")
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
    # user= and session_id= land in the trace metadata as mlflow.trace.user and
    # mlflow.trace.session; tags= are free-form tags you can filter on.
    mlflow.update_current_trace(
        tags={CHANNEL_TAG: channel},
        user=user,
        session_id=session_id,
        client_request_id=request_id,
    )
    if not question.strip():
        raise ValueError("empty question")
    return f"Thanks {user}, we are looking into: {question}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


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
    clauses = []
    if channel is not None:
        clauses.append(f"tags.{CHANNEL_TAG} = '{channel}'")
    if status is not None:
        clauses.append(f"trace.status = '{status}'")
    if session_id is not None:
        # Metadata keys with dots need backticks.
        clauses.append(f"metadata.`mlflow.trace.session` = '{session_id}'")
    if start is not None:
        clauses.append(f"trace.timestamp_ms >= {_ms(start)}")
    if end is not None:
        clauses.append(f"trace.timestamp_ms < {_ms(end)}")
    traces = mlflow.search_traces(
        locations=[experiment_id],
        filter_string=" AND ".join(clauses) or None,
        order_by=["timestamp_ms ASC"],
        return_type="list",
        include_spans=False,
    )
    return [trace.info.trace_id for trace in traces]


def trace_for_request(experiment_id: str, request_id: str) -> str | None:
    """The id of the trace whose client request id is ``request_id``, or None."""
    traces = mlflow.search_traces(
        locations=[experiment_id],
        filter_string=f"trace.client_request_id = '{request_id}'",
        return_type="list",
        include_spans=False,
    )
    return traces[0].info.trace_id if traces else None
