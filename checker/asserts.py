"""Assertion helpers whose failures show the learner what was actually found.

    trace = only_trace()
    span = find_span(trace, name="calculator", span_type="TOOL")
    assert_child_of(trace, span, parent_name="agent")

A failing helper prints the span tree, e.g.::

    expected a TOOL span named 'calculator'; found spans:
      - agent (AGENT)
        - llm (CHAT_MODEL)
"""

from __future__ import annotations

import mlflow
from mlflow.entities import Span, Trace


def search_traces(experiment_id: str | None = None, **kwargs) -> list[Trace]:
    """All traces of an experiment (default: every experiment), oldest first."""
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


def describe_trace(trace: Trace) -> str:
    root = root_span(trace)
    return f"'{root.name}' ({len(trace.data.spans)} spans)" if root else trace.info.trace_id


def root_span(trace: Trace) -> Span | None:
    return next((s for s in trace.data.spans if s.parent_id is None), None)


def span_tree(trace: Trace) -> str:
    """The spans of ``trace`` as an indented list with their span types."""
    children: dict[str | None, list[Span]] = {}
    for span in trace.data.spans:
        children.setdefault(span.parent_id, []).append(span)
    lines: list[str] = []

    def walk(parent_id, depth):
        for span in sorted(children.get(parent_id, []), key=lambda s: s.start_time_ns):
            lines.append(f"{'  ' * depth}- {span.name} ({span.span_type})")
            walk(span.span_id, depth + 1)

    walk(None, 1)
    return "\n".join(lines) if lines else "  (no spans)"


def find_spans(trace: Trace, name: str | None = None, span_type: str | None = None) -> list[Span]:
    return [
        s
        for s in trace.data.spans
        if (name is None or s.name == name) and (span_type is None or s.span_type == span_type)
    ]


def find_span(trace: Trace, name: str | None = None, span_type: str | None = None) -> Span:
    """The first span matching ``name`` and/or ``span_type``; fails with the tree."""
    found = find_spans(trace, name, span_type)
    if not found:
        wanted = " ".join(
            p for p in [span_type or "", "span", f"named '{name}'" if name else ""] if p
        )
        raise AssertionError(f"expected a {wanted}; found spans:\n{span_tree(trace)}")
    return found[0]


def assert_child_of(trace: Trace, span: Span, parent_name: str) -> None:
    """``span`` sits (directly or deeper) under a span named ``parent_name``."""
    by_id = {s.span_id: s for s in trace.data.spans}
    parent = by_id.get(span.parent_id)
    while parent is not None:
        if parent.name == parent_name:
            return
        parent = by_id.get(parent.parent_id)
    raise AssertionError(
        f"expected span '{span.name}' under a span named '{parent_name}'; "
        f"found spans:\n{span_tree(trace)}"
    )


def describe(items, attr: str = "name") -> str:
    """A short list of what was found, for failure messages."""
    names = [str(getattr(i, attr, i)) for i in items]
    return ", ".join(names) if names else "nothing"


def wait_for_prompt_links(timeout: float = 10.0) -> None:
    """Let MLflow finish linking prompt versions before a test looks for the links.

    In MLflow 3.17, ``load_prompt`` links the prompt version to the active model
    in a background thread (``link_prompt_thread-*``, see
    ``mlflow/tracking/_model_registry/fluent.py``), and the trace exporter links
    it to the trace in another (``link_prompts_from_exporter-*``, see
    ``mlflow/tracing/export/utils.py``). Reading the model or trace right after
    the call can miss the link, so join those threads first.
    """
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith(("link_prompt_thread-", "link_prompts_from_exporter-")):
            thread.join(timeout)
