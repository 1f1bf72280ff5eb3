"""checker.asserts: finding traces and spans, and failures that show the span tree."""

import mlflow
import pytest

from checker.asserts import (
    ancestors_of,
    assert_child_of,
    children_of,
    exception_messages,
    find_span,
    find_spans,
    last_trace,
    only_trace,
    parent_of,
    root_span,
    span_events,
    span_status,
    span_tree,
    token_usage,
    trace_of,
    trace_status,
    traces_of,
    user_attributes,
)


@mlflow.trace(span_type="TOOL", attributes={"unit": "cm"})
def measure(x):
    return x * 2


@mlflow.trace(name="pipeline", span_type="CHAIN")
def pipeline(x):
    with mlflow.start_span(name="prepare", span_type="PARSER") as span:
        span.set_inputs({"x": x})
        span.add_event(mlflow.entities.SpanEvent("prepared", attributes={"n": 1}))
    return measure(x)


@mlflow.trace(span_type="TOOL")
def broken(x):
    raise ValueError("bad input")


def test_trace_of_returns_the_result_and_the_trace_of_the_call():
    result, trace = trace_of(pipeline, 3)
    assert result == 6
    assert root_span(trace).name == "pipeline"
    assert [s.name for s in find_spans(trace)] == ["pipeline", "prepare", "measure"]


def test_trace_of_a_call_that_records_no_trace_says_so():
    with pytest.raises(AssertionError, match=r"expected len\(\.\.\.\) to record a trace"):
        trace_of(len, "abc")


def test_traces_of_returns_every_trace_a_call_recorded():
    _, traces = traces_of(lambda: [measure(1), measure(2)])
    assert [t.data.spans[0].inputs for t in traces] == [{"x": 1}, {"x": 2}]


def test_last_trace_and_only_trace_find_the_trace_just_recorded():
    pipeline(1)
    assert last_trace().info.trace_id == only_trace().info.trace_id


def test_last_trace_without_any_trace_explains():
    with pytest.raises(AssertionError, match="expected a trace; none was recorded"):
        last_trace()


def test_parents_children_and_ancestors():
    _, trace = trace_of(pipeline, 1)
    root, tool = find_span(trace, name="pipeline"), find_span(trace, span_type="TOOL")
    assert parent_of(trace, tool).name == "pipeline"
    assert parent_of(trace, root) is None
    assert [s.name for s in children_of(trace, root)] == ["prepare", "measure"]
    assert [s.name for s in ancestors_of(trace, tool)] == ["pipeline"]
    assert assert_child_of(trace, tool, parent_type="CHAIN", direct=True) is root


def test_a_missing_span_fails_with_the_span_tree_and_its_types():
    _, trace = trace_of(pipeline, 1)
    with pytest.raises(AssertionError) as failure:
        find_span(trace, name="calculator", span_type="TOOL")
    assert str(failure.value) == (
        "expected a TOOL span named 'calculator'; found spans:\n"
        "  - pipeline (CHAIN)\n    - prepare (PARSER)\n    - measure (TOOL)"
    )


def test_a_span_under_the_wrong_parent_fails_with_the_tree():
    _, trace = trace_of(pipeline, 1)
    with pytest.raises(
        AssertionError, match="expected span 'measure' directly under a span named 'prepare'"
    ):
        assert_child_of(trace, find_span(trace, name="measure"), parent_name="prepare", direct=True)


def test_inputs_outputs_attributes_and_events_of_a_span():
    _, trace = trace_of(pipeline, 2)
    tool, prepare = find_span(trace, name="measure"), find_span(trace, name="prepare")
    assert (tool.inputs, tool.outputs) == ({"x": 2}, 4)
    assert user_attributes(tool) == {"unit": "cm"}
    assert [(e.name, e.attributes) for e in span_events(prepare)] == [("prepared", {"n": 1})]


def test_an_exception_leaves_error_status_an_event_and_a_marked_tree():
    with pytest.raises(ValueError):
        broken(1)
    trace = last_trace()
    span = root_span(trace)
    assert (trace_status(trace), span_status(span)) == ("ERROR", "ERROR")
    assert exception_messages(span) == ["ValueError: bad input"]
    assert span_tree(trace) == "  - broken (TOOL, ERROR)"


def test_token_usage_of_a_trace_and_of_its_chat_span():
    @mlflow.trace(span_type="CHAT_MODEL")
    def chat(prompt):
        span = mlflow.get_current_active_span()
        span.set_attribute(
            "mlflow.chat.tokenUsage", {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
        )
        return "hi"

    _, trace = trace_of(chat, "hello")
    assert token_usage(trace) == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    assert token_usage(root_span(trace))["total_tokens"] == 5
    assert token_usage(trace_of(measure, 1)[1]) is None
