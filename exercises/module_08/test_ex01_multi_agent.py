"""Checks for ex01_multi_agent: one trace, a coordinator AGENT span, nested sub-agent spans."""

import mlflow
import pytest
from mlflow.entities import Trace, TraceData

from fixtures.data import load_corpus, load_questions
from fixtures.messages import shown
from fixtures.traces import (
    assert_child_of,
    children_of,
    find_span,
    find_spans,
    root_span,
    span_tree,
    traces_of,
)

CALC_PART = "What is 12 * 7?"
SEARCH_PART = "What is the latest MLflow release?"
RAG_QUESTION = load_questions()[
    0
]  # "Which decorator adds manual tracing ...", in mlflow_tracing.md
RAG_PART = RAG_QUESTION["question"]
QUESTION = f"{CALC_PART} {SEARCH_PART} {RAG_PART}"
RAG_REPLY = "Decorate the function with @mlflow.trace."


@pytest.fixture
def system(exercise, fake_llm_env):
    """The learner's multi-agent system on the kit's corpus; the chat model (the fake
    server) always answers RAG_REPLY."""
    fake_llm_env.responder = lambda request: RAG_REPLY
    return exercise.MultiAgentSystem(load_corpus())


def _ask(system, question=QUESTION):
    answer, traces = traces_of(system.coordinator, question)
    assert len(traces) == 1, (
        f"expected the whole exchange to be ONE trace; coordinator(...) recorded {len(traces)}:\n"
        + "\n".join(span_tree(t) for t in traces)
        + "\nCall the sub-agents from inside the coordinator's span, so their spans nest in it."
    )
    return answer, traces[0]


def _agent_span(trace, name):
    spans = find_spans(trace, name=name)
    assert spans, (
        f"expected a span named '{name}' (the sub-agent's AGENT span); found spans:\n"
        f"{span_tree(trace)}"
    )
    return spans[0]


def test_route_sends_arithmetic_news_and_everything_else_to_the_right_agent(exercise):
    cases = {
        "What is 12 * 7?": exercise.CALCULATOR_AGENT,
        "And 3.5 + 2 - 1?": exercise.CALCULATOR_AGENT,
        "What is the LATEST Spark release?": exercise.SEARCH_AGENT,
        "Any news about Python?": exercise.SEARCH_AGENT,
        "How are prompt variables written?": exercise.RAG_AGENT,
        "Which 2 agents exist?": exercise.RAG_AGENT,
        "Today, what is 6 * 7?": exercise.CALCULATOR_AGENT,  # arithmetic first, then news
    }
    wrong = {
        part: (exercise.route(part), agent)
        for part, agent in cases.items()
        if exercise.route(part) != agent
    }
    assert not wrong, "route(part) picked the wrong agent (part: found, expected): " + "; ".join(
        f"{part!r}: {shown(found)}, expected {agent!r}" for part, (found, agent) in wrong.items()
    )


def test_a_question_is_one_trace_rooted_in_the_coordinator_agent_span(system, exercise):
    _, trace = _ask(system)

    root = root_span(trace)
    assert root.name == exercise.COORDINATOR and root.span_type == "AGENT", (
        f"expected the trace's root to be an AGENT span named '{exercise.COORDINATOR}'; "
        f"found {root.name!r} ({root.span_type}). Spans:\n{span_tree(trace)}"
    )
    assert (root.inputs or {}).get("question") == QUESTION, (
        f"expected the coordinator span's input 'question' to be the whole question; "
        f"found inputs {shown(root.inputs)}"
    )


def test_each_part_gets_its_own_agent_span_directly_under_the_coordinator(system, exercise):
    _, trace = _ask(system)

    root = root_span(trace)
    expected = [
        (CALC_PART, exercise.CALCULATOR_AGENT),
        (SEARCH_PART, exercise.SEARCH_AGENT),
        (RAG_PART, exercise.RAG_AGENT),
    ]
    for part, name in expected:
        span = _agent_span(trace, name)
        assert span.span_type == "AGENT", (
            f"expected '{name}' to be an AGENT span (autologgers never make AGENT spans: "
            f"use @mlflow.trace(span_type='AGENT') or mlflow.start_span(span_type='AGENT')); "
            f"found spans:\n{span_tree(trace)}"
        )
        assert span.parent_id == root.span_id, (
            f"expected '{name}' directly under the coordinator span; found spans:\n"
            f"{span_tree(trace)}"
        )
        assert (span.inputs or {}).get("part") == part, (
            f"expected the '{name}' span to record the part it answered as its input "
            f"'part' = {part!r}; found inputs {shown(span.inputs)}"
        )
    agents = [s.name for s in children_of(trace, root) if s.span_type == "AGENT"]
    assert agents == [name for _, name in expected], (
        f"expected one sub-agent span per part, in the order of the parts "
        f"{[name for _, name in expected]}; found {agents}"
    )


def test_the_calculator_agent_computes_in_a_calculator_tool_span(system, exercise):
    answer, trace = _ask(system, "What is 12 * 7?")

    tool = find_span(trace, name="calculator", span_type="TOOL")
    assert_child_of(trace, tool, parent_name=exercise.CALCULATOR_AGENT, parent_type="AGENT")
    shown_inputs = shown(tool.inputs)
    assert "12 * 7" in shown_inputs, (
        f"expected the calculator span's input to be the expression '12 * 7'; "
        f"found inputs {shown_inputs}"
    )
    assert tool.outputs in (84, 84.0), (
        f"expected the calculator span's output to be the value 84; found {shown(tool.outputs)}"
    )
    assert answer == "12 * 7 = 84", f"expected the answer '12 * 7 = 84'; got {shown(answer)}"


def test_the_search_agent_searches_in_a_web_search_tool_span(system, exercise):
    answer, trace = _ask(system, "Any news about Spark?")

    tool = find_span(trace, name="web_search", span_type="TOOL")
    assert_child_of(trace, tool, parent_name=exercise.SEARCH_AGENT, parent_type="AGENT")
    assert isinstance(answer, str) and "Apache Spark 4" in answer, (
        f"expected the search agent to answer with the search result about Spark; "
        f"got {shown(answer)}"
    )


def test_the_search_agent_says_so_when_the_search_finds_nothing(system):
    answer, _ = _ask(system, "Any news today?")

    assert answer == "No search results.", (
        f"expected the search agent to answer 'No search results.' when _web_search finds "
        f"nothing; got {shown(answer)}"
    )


def _doc_uris(outputs) -> list:
    """The doc_uri of each document a RETRIEVER span output (Documents are stored as dicts)."""
    if not isinstance(outputs, list):
        return [shown(outputs)]
    return [
        (doc.get("metadata") or {}).get("doc_uri") if isinstance(doc, dict) else shown(doc)
        for doc in outputs
    ]


def test_the_rag_agent_retrieves_the_two_best_documents_by_file_name(system, exercise):
    _, trace = _ask(system, RAG_PART)

    retriever = find_span(trace, span_type="RETRIEVER")
    expected = exercise._rank_documents(RAG_PART, load_corpus())
    found = _doc_uris(retriever.outputs)
    assert found == expected, (
        f"expected the retriever span to output the two best documents (_rank_documents), in "
        f"order, as Documents whose metadata doc_uri is the file name: {expected}; found "
        f"doc_uris {shown(found)}"
    )


def test_the_rag_agent_asks_the_systems_own_chat_model(exercise, fake_llm_env):
    fake_llm_env.responder = lambda request: RAG_REPLY
    system = exercise.MultiAgentSystem(load_corpus(), model="kata-small-model")

    _ask(system, RAG_PART)

    models = [r.body.get("model") for r in fake_llm_env.chat_requests]
    assert models == ["kata-small-model"], (
        f"expected one chat call to the system's model 'kata-small-model' (self.model); "
        f"found calls to {shown(models)}"
    )


def test_the_rag_agent_retrieves_documents_then_asks_the_chat_model(system, exercise, fake_llm_env):
    answer, trace = _ask(system, RAG_PART)

    retriever = find_span(trace, span_type="RETRIEVER")
    assert_child_of(trace, retriever, parent_name=exercise.RAG_AGENT, parent_type="AGENT")
    found = str(retriever.outputs)
    assert RAG_QUESTION["source"] in found, (
        f"expected the retriever span's outputs to hold the document "
        f"{RAG_QUESTION['source']!r} (as metadata doc_uri); found {found[:300]!r}"
    )
    models = find_spans(trace, span_type="CHAT_MODEL") + find_spans(trace, span_type="LLM")
    assert models, (
        f"expected the chat model call as a CHAT_MODEL or LLM span; found spans:\n"
        f"{span_tree(trace)}\nmlflow.openai.autolog() records the OpenAI client's calls."
    )
    assert_child_of(trace, models[0], parent_name=exercise.RAG_AGENT, parent_type="AGENT")
    requests = fake_llm_env.chat_requests
    assert len(requests) == 1, f"expected one chat model call; found {len(requests)}"
    sent = str(requests[0].body.get("messages"))
    assert RAG_QUESTION["answer"] in sent and RAG_PART in sent, (
        "expected the chat model to receive the question and the retrieved documents' text; "
        f"it received {sent[:300]!r}..."
    )
    assert answer == RAG_REPLY, (
        f"expected the chat model's reply {RAG_REPLY!r}; got {shown(answer)}"
    )


def test_the_answer_joins_the_sub_agents_answers_in_the_order_of_the_parts(system):
    answer, _ = _ask(system)

    lines = answer.split("\n") if isinstance(answer, str) else [shown(answer)]
    assert len(lines) == 3 and lines[0] == "12 * 7 = 84" and lines[2] == RAG_REPLY, (
        "expected three lines: the calculator's, the search agent's and the RAG agent's "
        f"answers, in that order; got {shown(answer)}"
    )
    assert "MLflow 3" in lines[1], f"expected the search result on line 2; got {lines[1]!r}"


def _pairs(found) -> object:
    """answered_by's result as a list of tuples, or as it is when it has another shape."""
    try:
        return [tuple(pair) for pair in found]
    except TypeError:
        return found


@pytest.fixture
def hand_built_trace():
    """A trace written with MLflow's public API, not by the learner's code. Its routing
    is not what route() would choose, so only reading the trace gives the answer."""
    with mlflow.start_span("planner", span_type="AGENT") as root:
        root.set_inputs({"question": "Two parts."})
        with mlflow.start_span("prepare", span_type="CHAIN"):
            pass
        with mlflow.start_span("docs_agent", span_type="AGENT") as span:
            span.set_inputs({"part": "What is 2 + 2?"})
            with mlflow.start_span("helper_agent", span_type="AGENT") as inner:
                inner.set_inputs({"part": "a nested helper, not a direct sub-agent"})
        with mlflow.start_span("math_agent", span_type="AGENT") as span:
            span.set_inputs({"part": "Any news today?"})
    return mlflow.get_trace(mlflow.get_last_active_trace_id())


def test_answered_by_reads_the_agents_of_any_trace(exercise, hand_built_trace):
    found = exercise.answered_by(hand_built_trace)

    expected = [("What is 2 + 2?", "docs_agent"), ("Any news today?", "math_agent")]
    assert _pairs(found) == expected, (
        f"expected answered_by to read, from the trace alone, the AGENT spans directly under "
        f"the root: {expected}; got {shown(found)}. Trace:\n{span_tree(hand_built_trace)}"
    )


def test_answered_by_lists_the_agents_in_the_order_they_started(exercise, hand_built_trace):
    # The same trace with its spans listed last-first: only start_time_ns gives the order.
    spans = list(reversed(hand_built_trace.data.spans))
    reordered = Trace(info=hand_built_trace.info, data=TraceData(spans=spans))

    found = exercise.answered_by(reordered)

    expected = [("What is 2 + 2?", "docs_agent"), ("Any news today?", "math_agent")]
    assert _pairs(found) == expected, (
        f"expected answered_by to list the agents in the order they started (start_time_ns), "
        f"whatever the order of trace.data.spans: {expected}; got {shown(found)}"
    )


def test_answered_by_names_the_agents_of_the_coordinators_trace(system, exercise):
    _, trace = _ask(system)

    found = exercise.answered_by(trace)

    expected = [
        (CALC_PART, exercise.CALCULATOR_AGENT),
        (SEARCH_PART, exercise.SEARCH_AGENT),
        (RAG_PART, exercise.RAG_AGENT),
    ]
    assert _pairs(found) == expected, (
        f"expected answered_by(trace) == {expected}; got {shown(found)}. Trace:\n{span_tree(trace)}"
    )
