"""Checks for ex02_manual_spans: spans opened with mlflow.start_span, events, and errors."""

import pytest

from fixtures.messages import shown
from fixtures.traces import (
    children_of,
    exception_messages,
    find_span,
    find_spans,
    root_span,
    span_events,
    span_status,
    span_tree,
    trace_of,
    trace_status,
    traces_of,
    user_attributes,
)

BILLING = "I was charged twice;   please refund the second payment."
BLANK = "   \n  "

STEPS = [("validate", "PARSER"), ("classify", "LLM"), ("route", "TOOL")]


def test_a_ticket_is_triaged_into_a_category_and_a_queue(exercise):
    result = exercise.triage_ticket(BILLING)

    assert result == {"category": "billing", "queue": "finance"}, (
        "expected {'category': 'billing', 'queue': 'finance'} for a billing ticket; "
        f"got {shown(result)}"
    )


def test_the_root_span_is_a_chain_named_triage_with_the_ticket_and_the_result(exercise):
    result, trace = trace_of(exercise.triage_ticket, BILLING)

    root = root_span(trace)
    tree = span_tree(trace)
    assert (root.name, root.span_type) == ("triage", "CHAIN"), (
        f"expected the root span to be a CHAIN named 'triage'; found spans:\n{tree}"
    )
    assert root.inputs == {"ticket": BILLING}, (
        f"expected the root span's inputs to be {{'ticket': <the ticket>}} (span.set_inputs); "
        f"found {shown(root.inputs)}"
    )
    assert root.outputs == result, (
        f"expected the root span's outputs to be the returned dict {shown(result)} "
        f"(span.set_outputs); found {shown(root.outputs)}"
    )


def test_the_three_steps_are_typed_spans_directly_under_the_root_in_order(exercise):
    _, trace = trace_of(exercise.triage_ticket, BILLING)

    found = [(s.name, s.span_type) for s in children_of(trace, root_span(trace))]
    assert found == STEPS, (
        f"expected the root span's children, in order, to be {STEPS}; found {found}.\n"
        f"spans:\n{span_tree(trace)}"
    )


def test_each_step_records_its_inputs_and_outputs(exercise):
    _, trace = trace_of(exercise.triage_ticket, BILLING)

    text = " ".join(BILLING.split())
    expected = {
        "validate": ({"ticket": BILLING}, {"text": text}),
        "classify": ({"text": text}, {"category": "billing"}),
        "route": ({"category": "billing"}, {"queue": "finance"}),
    }
    for name, (inputs, outputs) in expected.items():
        span = find_span(trace, name=name)
        assert (span.inputs, span.outputs) == (inputs, outputs), (
            f"expected the '{name}' span to have inputs {inputs} and outputs {outputs}; "
            f"found inputs {shown(span.inputs)} and outputs {shown(span.outputs)}"
        )


def test_the_classify_span_records_the_model_and_one_event_per_keyword(exercise):
    _, trace = trace_of(exercise.triage_ticket, BILLING)

    classify = find_span(trace, name="classify")
    model = user_attributes(classify).get("model")
    assert model == exercise.MODEL_NAME, (
        f"expected the classify span to carry the attribute model={exercise.MODEL_NAME!r}; "
        f"found attributes {user_attributes(classify)}"
    )
    events = [
        (e.attributes.get("keyword"), e.attributes.get("category"))
        for e in span_events(classify, "keyword_matched")
    ]
    expected = [("refund", "billing"), ("charged", "billing"), ("payment", "billing")]
    assert sorted(events) == sorted(expected), (
        f"expected one 'keyword_matched' event per matched keyword with the attributes "
        f"keyword and category, {expected}; found {events} "
        f"(all events: {[e.name for e in classify.events]}). span.add_event(SpanEvent(...))"
    )


def test_an_invalid_ticket_raises_to_the_caller(exercise):
    with pytest.raises(ValueError, match="empty ticket"):
        exercise.triage_ticket(BLANK)


def test_an_invalid_ticket_leaves_the_step_and_the_trace_in_error(exercise):
    def triage_blank():
        with pytest.raises(ValueError):
            exercise.triage_ticket(BLANK)

    _, traces = traces_of(triage_blank)

    assert len(traces) == 1, (
        f"expected the failed call to leave one trace; found {len(traces)}. Open the spans "
        "before the step that can fail, so that the failure is recorded."
    )
    trace = traces[0]
    assert trace_status(trace) == "ERROR", (
        f"expected the trace of a failed call to be in ERROR; found {trace_status(trace)}"
    )
    validate = find_span(trace, name="validate")
    assert span_status(validate) == "ERROR", (
        f"expected the validate span to be in ERROR; found {span_status(validate)}.\n"
        f"spans:\n{span_tree(trace)}"
    )
    messages = exception_messages(validate)
    assert any(m.startswith("ValueError: empty ticket") for m in messages), (
        f"expected the validate span to record the ValueError as an 'exception' event; found "
        f"{messages or 'no exception event'}"
    )
    later = find_spans(trace, name="classify") + find_spans(trace, name="route")
    assert not later, (
        f"expected no classify or route span after validation failed; found spans:\n"
        f"{span_tree(trace)}"
    )
