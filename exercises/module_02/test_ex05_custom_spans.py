"""Checks for ex05_custom_spans: your own spans around an autologged LangChain chain."""

import pytest

from fixtures.messages import shown
from fixtures.traces import (
    assert_child_of,
    children_of,
    describe_trace,
    find_span,
    root_span,
    span_tree,
    trace_of,
    traces_of,
)

RAW = "  <p>What a <b>fantastic</b>   lamp,\n it works perfectly &amp; looks great!</p> "
CLEAN = "What a fantastic lamp, it works perfectly & looks great!"


@pytest.fixture
def llm():
    from fixtures.fake_chat import SentimentChatModel

    return SentimentChatModel()


def _chain_child(trace):
    """The root's direct child that holds the CHAT_MODEL span (the autologged chain)."""
    chat = find_span(trace, span_type="CHAT_MODEL")
    root = root_span(trace)
    node = chat
    while node.parent_id is not None and node.parent_id != root.span_id:
        node = next(s for s in trace.data.spans if s.span_id == node.parent_id)
    return node


def test_a_review_gets_a_label_and_stars(exercise, llm):
    result = exercise.analyze_review(RAW, llm)

    assert result == {"label": "positive", "stars": 5}, (
        f"expected {{'label': 'positive', 'stars': 5}} for a glowing review; got {shown(result)}"
    )


def test_one_review_is_one_trace_under_the_pipeline_span(exercise, llm):
    _, traces = traces_of(exercise.analyze_review, RAW, llm)

    assert len(traces) == 1, (
        f"expected one trace per review; found {len(traces)}: "
        + "; ".join(describe_trace(t) for t in traces)
        + ". Run the chain and both steps while the pipeline span is open."
    )
    root = root_span(traces[0])
    assert (getattr(root, "name", None), getattr(root, "span_type", None)) == (
        "review_pipeline",
        "CHAIN",
    ), (
        f"expected the root span to be a CHAIN named 'review_pipeline'; found spans:\n"
        f"{span_tree(traces[0])}"
    )
    # A pipeline span made by decorating analyze_review also records the llm argument: fine.
    inputs = root.inputs if isinstance(root.inputs, dict) else {}
    assert inputs.get("review") == RAW and root.outputs == {"label": "positive", "stars": 5}, (
        f"expected the pipeline span's inputs to hold {{'review': <raw review>}} and its "
        f"outputs to be the returned dict; found inputs {shown(root.inputs)}, outputs "
        f"{shown(root.outputs)}"
    )


def test_the_autologged_chat_model_span_nests_under_the_pipeline_span(exercise, llm):
    _, trace = trace_of(exercise.analyze_review, RAW, llm)

    chat = find_span(trace, span_type="CHAT_MODEL")
    assert_child_of(trace, chat, parent_name="review_pipeline")


def test_preprocess_then_chain_then_postprocess_under_the_pipeline(exercise, llm):
    _, trace = trace_of(exercise.analyze_review, RAW, llm)

    tree = span_tree(trace)
    chain = _chain_child(trace)
    steps = [s.name for s in children_of(trace, root_span(trace))]
    expected = ["preprocess", chain.name, "postprocess"]
    assert steps == expected, (
        f"expected the pipeline span's children, in order, to be {expected}; found {steps}.\n"
        f"spans:\n{tree}"
    )
    for name in ("preprocess", "postprocess"):
        span = find_span(trace, name=name)
        assert span.span_type == "PARSER", (
            f"expected '{name}' to be a PARSER span; found {span.span_type}.\nspans:\n{tree}"
        )


def test_the_chain_gets_the_text_that_preprocess_cleaned(exercise, llm):
    _, trace = trace_of(exercise.analyze_review, RAW, llm)

    preprocess = find_span(trace, name="preprocess")
    assert preprocess.inputs == {"review": RAW} and preprocess.outputs == {"review": CLEAN}, (
        f"expected preprocess to record inputs {{'review': <raw>}} and outputs "
        f"{{'review': {CLEAN!r}}}; found {shown(preprocess.inputs)} -> {shown(preprocess.outputs)}"
    )
    prompt = str(find_span(trace, span_type="CHAT_MODEL").inputs)
    assert CLEAN in prompt and "<b>" not in prompt, (
        f"expected the chat model to receive the cleaned review {CLEAN!r}; its inputs were "
        f"{prompt[:300]}"
    )


def test_postprocess_turns_the_reply_into_the_result(exercise, llm):
    result, trace = trace_of(exercise.analyze_review, RAW, llm)

    postprocess = find_span(trace, name="postprocess")
    assert postprocess.inputs == {"reply": "positive"} and postprocess.outputs == result, (
        f"expected postprocess to record inputs {{'reply': 'positive'}} (the chain's reply) and "
        f"the result {shown(result)} as outputs; found {shown(postprocess.inputs)} -> "
        f"{shown(postprocess.outputs)}"
    )
