"""Traces and spans for exercise tests, with failures that show what was found.

    result, trace = trace_of(exercise.answer, "What is MLflow?")
    tool = find_span(trace, name="calculator", span_type="TOOL")
    assert_child_of(trace, tool, parent_name="agent")
    assert span_status(tool) == "OK", f"... found spans:\\n{span_tree(trace)}"

A failing helper prints the span tree with span types (and ERROR where a
span failed), e.g.::

    expected a TOOL span named 'calculator'; found spans:
      - agent (AGENT)
        - llm (CHAT_MODEL)
        - search (TOOL, ERROR)

Every helper reads traces back from the test's MLflow store; none looks at the
learner's source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
from mlflow.entities import Span, SpanEvent, Trace

# --- finding traces -------------------------------------------------------------


def search_traces(experiment_id: str | None = None, **kwargs: Any) -> list[Trace]:
    """All traces of an experiment (default: every experiment), oldest first.

    Extra keyword arguments go to ``mlflow.search_traces`` (``filter_string``,
    ``model_id``, ``run_id`` ...).
    """
    mlflow.flush_trace_async_logging()
    client = mlflow.MlflowClient()
    if experiment_id is None:
        experiment_ids = [e.experiment_id for e in client.search_experiments()]
    else:
        experiment_ids = [experiment_id]
    traces = mlflow.search_traces(
        locations=experiment_ids, return_type="list", order_by=["timestamp_ms ASC"], **kwargs
    )
    return list(traces)


def only_trace(experiment_id: str | None = None) -> Trace:
    """The single trace that was logged; fails if there are none or several."""
    traces = search_traces(experiment_id)
    assert len(traces) == 1, f"expected exactly one trace, found {len(traces)}" + (
        ": " + ", ".join(describe_trace(t) for t in traces) if traces else "."
    )
    return traces[0]


def last_trace() -> Trace:
    """The trace recorded last in this test (``mlflow.get_last_active_trace_id``)."""
    mlflow.flush_trace_async_logging()
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None, (
        "expected a trace; none was recorded. Trace the function with @mlflow.trace, "
        "`with mlflow.start_span(...)`, or an autolog call."
    )
    trace = mlflow.get_trace(trace_id)
    assert trace is not None, f"the trace {trace_id} was started but never reached the store"
    return trace


def trace_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Trace]:
    """Call ``call(*args, **kwargs)``; return its result and the trace it recorded.

    Fails, saying so, when the call recorded no trace. When it recorded several,
    this is the last one (``traces_of`` returns them all).
    """
    result, traces = traces_of(call, *args, **kwargs)
    name = getattr(call, "__name__", repr(call))
    assert traces, (
        f"expected {name}(...) to record a trace; it recorded none. Trace it with "
        "@mlflow.trace, `with mlflow.start_span(...)`, or an autolog call."
    )
    return result, traces[-1]


def traces_of(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[Trace]]:
    """Call ``call(*args, **kwargs)``; return its result and every trace it recorded."""
    before = {t.info.trace_id for t in search_traces()}
    result = call(*args, **kwargs)
    return result, [t for t in search_traces() if t.info.trace_id not in before]


def describe_trace(trace: Trace) -> str:
    """``'pipeline' (3 spans)``, for failure messages."""
    root = root_span(trace)
    return f"'{root.name}' ({len(trace.data.spans)} spans)" if root else trace.info.trace_id


def trace_status(trace: Trace) -> str:
    """``OK``, ``ERROR`` or ``IN_PROGRESS``."""
    state = trace.info.state
    return str(getattr(state, "value", state))


def token_usage(item: Trace | Span) -> dict[str, int] | None:
    """``{"input_tokens", "output_tokens", "total_tokens"}`` of a trace (summed over
    its spans) or of one span, or None when no model reported usage."""
    if isinstance(item, Trace):
        return item.info.token_usage
    return item.get_attribute("mlflow.chat.tokenUsage")


# --- spans and their tree -----------------------------------------------------------


def root_span(trace: Trace) -> Span | None:
    return next((s for s in trace.data.spans if s.parent_id is None), None)


def span_tree(trace: Trace) -> str:
    """The spans of ``trace`` as an indented list with their types (and ERROR status)."""
    children: dict[str | None, list[Span]] = {}
    for span in trace.data.spans:
        children.setdefault(span.parent_id, []).append(span)
    lines: list[str] = []

    def walk(parent_id: str | None, depth: int) -> None:
        for span in sorted(children.get(parent_id, []), key=lambda s: s.start_time_ns):
            error = ", ERROR" if span_status(span) == "ERROR" else ""
            lines.append(f"{'  ' * depth}- {span.name} ({span.span_type}{error})")
            walk(span.span_id, depth + 1)

    walk(None, 1)
    return "\n".join(lines) if lines else "  (no spans)"


def find_spans(trace: Trace, name: str | None = None, span_type: str | None = None) -> list[Span]:
    """Every span matching ``name`` and/or ``span_type``, in start order."""
    found = [
        s
        for s in trace.data.spans
        if (name is None or s.name == name) and (span_type is None or s.span_type == span_type)
    ]
    return sorted(found, key=lambda s: s.start_time_ns)


def find_span(trace: Trace, name: str | None = None, span_type: str | None = None) -> Span:
    """The first span matching ``name`` and/or ``span_type``; fails with the tree."""
    found = find_spans(trace, name, span_type)
    if not found:
        wanted = " ".join(
            p for p in [span_type or "", "span", f"named '{name}'" if name else ""] if p
        )
        raise AssertionError(f"expected a {wanted}; found spans:\n{span_tree(trace)}")
    return found[0]


def parent_of(trace: Trace, span: Span) -> Span | None:
    """The span's direct parent, or None for the root."""
    return next((s for s in trace.data.spans if s.span_id == span.parent_id), None)


def children_of(trace: Trace, span: Span) -> list[Span]:
    """The span's direct children, in start order."""
    found = [s for s in trace.data.spans if s.parent_id == span.span_id]
    return sorted(found, key=lambda s: s.start_time_ns)


def ancestors_of(trace: Trace, span: Span) -> list[Span]:
    """The span's parent, its parent's parent ... up to the root."""
    found = []
    parent = parent_of(trace, span)
    while parent is not None:
        found.append(parent)
        parent = parent_of(trace, parent)
    return found


def assert_child_of(
    trace: Trace,
    span: Span,
    parent_name: str | None = None,
    parent_type: str | None = None,
    direct: bool = False,
) -> Span:
    """``span`` sits under a span with ``parent_name`` and/or ``parent_type`` (directly,
    with ``direct=True``; else at any depth). Returns that parent."""
    candidates = ancestors_of(trace, span)[:1] if direct else ancestors_of(trace, span)
    for parent in candidates:
        if (parent_name is None or parent.name == parent_name) and (
            parent_type is None or parent.span_type == parent_type
        ):
            return parent
    wanted = " ".join(
        p for p in [parent_type or "", "span", f"named '{parent_name}'" if parent_name else ""] if p
    )
    where = "directly under" if direct else "under"
    raise AssertionError(
        f"expected span '{span.name}' {where} a {wanted}; found spans:\n{span_tree(trace)}"
    )


# --- what a span holds -----------------------------------------------------------------


def span_status(span: Span) -> str:
    """``OK``, ``ERROR`` or ``UNSET``."""
    code = span.status.status_code
    return str(getattr(code, "value", code))


def span_events(span: Span, name: str | None = None) -> list[SpanEvent]:
    """The span's events (``name="exception"`` for recorded exceptions)."""
    return [e for e in span.events if name is None or e.name == name]


def exception_messages(span: Span) -> list[str]:
    """``"ValueError: bad input"`` for each exception recorded on the span."""
    return [
        f"{e.attributes.get('exception.type')}: {e.attributes.get('exception.message')}"
        for e in span_events(span, "exception")
    ]


def user_attributes(span: Span) -> dict[str, Any]:
    """The span's attributes without MLflow's own ``mlflow.*`` keys."""
    return {k: v for k, v in span.attributes.items() if not k.startswith("mlflow.")}


def describe(items: Any, attr: str = "name") -> str:
    """A short list of what was found, for failure messages."""
    names = [str(getattr(i, attr, i)) for i in items]
    return ", ".join(names) if names else "nothing"
