"""Checks for ex02_tool_calling_agent: a LangChain agent that calls tools, traced by
autolog under an AGENT span, and tool usage measured from the traces."""

import mlflow
import pytest

from fixtures.fake_chat import scripted_chat_model, tool_call
from fixtures.messages import shown
from fixtures.snapshots import store_snapshot
from fixtures.traces import (
    assert_child_of,
    find_span,
    find_spans,
    root_span,
    span_status,
    span_tree,
    trace_of,
)

DOC = "mlflow_model_registry_aliases.md"


def _ask(exercise, model, question="What replaced stages?"):
    return _ask_agent(exercise, exercise.build_agent(model), question)


def _ask_agent(exercise, agent, question):
    try:
        return trace_of(exercise.ask, agent, question)
    except NotImplementedError:
        raise
    except Exception as err:
        pytest.fail(
            f"the agent raised {type(err).__name__}: {shown(err)}. When a tool fails, the agent "
            "must carry on and tell the model about the error, not stop."
        )


def _tool_message(messages):
    """The last tool message the model was shown, or None."""
    return next((m for m in reversed(messages) if m.type == "tool"), None)


def test_the_agent_returns_the_models_final_answer(exercise):
    model = scripted_chat_model(tool_call("calculator", {"expression": "6 * 7"}), "It is 42.")

    answer, _ = _ask(exercise, model, "What is 6 times 7?")

    assert answer == "It is 42.", (
        "expected ask to return the text of the model's final message 'It is 42.'; "
        f"got {shown(answer)}"
    )


def test_the_model_is_given_the_system_prompt(exercise):
    model = scripted_chat_model("Hello!")

    _ask(exercise, model, "Hi")

    first = model.calls[0] if model.calls else []
    system = [m.content for m in first if m.type == "system"]
    assert system == [exercise.SYSTEM_PROMPT], (
        "expected the model's first call to start with SYSTEM_PROMPT as the system message "
        f"(create_agent(..., system_prompt=SYSTEM_PROMPT)); its system messages: {shown(system)}"
    )


def test_each_question_is_one_trace_with_an_agent_span_at_the_root(exercise):
    model = scripted_chat_model("Hello!")

    _, trace = _ask(exercise, model, "Hi")

    root = root_span(trace)
    assert root is not None and root.span_type == "AGENT", (
        "expected the trace's root span to have type AGENT (wrap ask with "
        "@mlflow.trace(span_type='AGENT'); autolog alone never makes one); found spans:\n"
        + span_tree(trace)
    )
    chat = find_span(trace, span_type="CHAT_MODEL")
    assert_child_of(trace, chat, parent_type="AGENT")


def test_the_agent_span_records_the_question_and_the_answer(exercise):
    model = scripted_chat_model("Aliases replaced stages.")

    answer, trace = _ask(exercise, model, "What replaced stages?")

    root = root_span(trace)
    inputs = root.inputs if root else None
    values = inputs.values() if isinstance(inputs, dict) else [inputs]
    assert "What replaced stages?" in values, (
        "expected the AGENT span's inputs to hold the question 'What replaced stages?'; "
        f"found {shown(inputs)}. @mlflow.trace records the arguments for you."
    )
    outputs = root.outputs if root else None
    assert outputs == answer == "Aliases replaced stages.", (
        "expected the AGENT span's output to be the answer 'Aliases replaced stages.'; found "
        f"{shown(outputs)} (ask returned {shown(answer)})"
    )


def test_every_tool_the_model_calls_runs_as_a_tool_span_under_the_agent(exercise):
    model = scripted_chat_model(
        tool_call("search_documents", {"query": "alias champion"}),
        tool_call("read_document", {"name": DOC}),
        tool_call("calculator", {"expression": "2 * 21"}),
        "Aliases replaced stages (see the registry document).",
    )

    _, trace = _ask(exercise, model)

    for name in ("search_documents", "read_document", "calculator"):
        spans = find_spans(trace, name=name, span_type="TOOL")
        assert spans, (
            f"expected the model's call of '{name}' to run as a TOOL span named '{name}' "
            f"(is it among the agent's tools, under that name?); found spans:\n{span_tree(trace)}"
        )
        assert_child_of(trace, spans[0], parent_type="AGENT")
        assert span_status(spans[0]) == "OK", (
            f"expected the '{name}' call to succeed; found spans:\n{span_tree(trace)}"
        )


def test_tool_results_go_back_to_the_model(exercise):
    model = scripted_chat_model(
        tool_call("search_documents", {"query": "alias champion"}),
        tool_call("calculator", {"expression": "6 * 7"}),
        "Done.",
    )

    _ask(exercise, model)

    found = _tool_message(model.calls[1]) if len(model.calls) > 1 else None
    assert found is not None and DOC in str(found.content), (
        f"expected the model's second call to see the search result (mentioning {DOC}); "
        f"it saw {shown(found.content) if found else 'no tool message'}"
    )
    found = _tool_message(model.calls[2]) if len(model.calls) > 2 else None
    assert found is not None and str(found.content).strip() in ("42", "42.0"), (
        f"expected the model's third call to see the calculator's result 42; "
        f"it saw {shown(found.content) if found else 'no tool message'}"
    )


def test_a_failing_tool_is_an_error_span_and_an_error_message_to_the_model(exercise):
    model = scripted_chat_model(
        tool_call("read_document", {"name": "no_such_document.md"}),
        "Sorry, I could not find that document.",
    )

    answer, trace = _ask(exercise, model)

    span = find_span(trace, name="read_document", span_type="TOOL")
    assert span_status(span) == "ERROR", (
        "expected the failed read_document call to be a TOOL span with status ERROR (let the "
        "tool raise; turn the exception into a message outside the tool); found spans:\n"
        + span_tree(trace)
    )
    told = _tool_message(model.calls[1]) if len(model.calls) > 1 else None
    told_error = told is not None and (
        getattr(told, "status", None) == "error" or "error" in str(told.content).lower()
    )
    assert told_error, (
        "expected the model's next call to get the tool error as a tool message (status "
        f"'error'); it got {shown(told)}"
    )
    assert answer == "Sorry, I could not find that document.", (
        f"expected the agent to carry on to the model's final answer; got {shown(answer)}"
    )


# --- tool usage, read back from the traces ------------------------------------------------


def _tool_trace(calls):
    """One trace with an AGENT root and a TOOL span per (name, ok) in ``calls``."""
    with mlflow.start_span(name="agent", span_type="AGENT"):
        with mlflow.start_span(name="LangGraph", span_type="CHAIN"):
            for name, ok in calls:
                with mlflow.start_span(name=name, span_type="TOOL") as span:
                    span.set_inputs({"arg": "x"})
                    if not ok:
                        span.record_exception(ValueError("bad input"))
        with mlflow.start_span(name="calculator", span_type="CHAT_MODEL"):
            pass  # not a tool, whatever its name


@store_snapshot
def recorded_tool_calls():
    """Traces recorded by an agent in its experiment (support-agent), and by someone
    else's agent in theirs (other-agent): built once, copied into each test's store."""
    other = mlflow.set_experiment("other-agent").experiment_id
    _tool_trace([("calculator", False)] * 3)
    experiment_id = mlflow.set_experiment("support-agent").experiment_id
    _tool_trace([("search_documents", True), ("read_document", True), ("calculator", True)])
    _tool_trace([("search_documents", True), ("read_document", False)])
    _tool_trace([("search_documents", True), ("read_document", True), ("read_document", True)])
    _tool_trace([("calculator", False)])
    mlflow.flush_trace_async_logging()
    return {"support": experiment_id, "other": other}


def _field(usage, field) -> dict:
    """{tool: usage.<field>} of whatever tool_usage returned."""
    if not isinstance(usage, dict):
        return {"not a dict": shown(usage)}
    return {name: getattr(u, field, "missing") for name, u in usage.items()}


def _calls_and_failures(usage) -> dict:
    calls, failures = _field(usage, "calls"), _field(usage, "failures")
    return {name: (calls[name], failures[name]) for name in calls}


SUPPORT_AGENT = {"search_documents": (3, 0), "read_document": (4, 1), "calculator": (2, 1)}


def test_tool_usage_counts_calls_and_failures_per_tool_from_the_traces(
    exercise, recorded_tool_calls
):
    mlflow.set_experiment(experiment_id=recorded_tool_calls["other"])  # not the one asked for

    usage = exercise.tool_usage(recorded_tool_calls["support"])

    found = _calls_and_failures(usage)
    assert found == SUPPORT_AGENT, (
        "expected (calls, failures) per tool, counting TOOL spans only, in the given "
        "experiment only (even while another one is active), a failure being an ERROR "
        f"span:\n{SUPPORT_AGENT}\nfound:\n{found}"
    )


def test_tool_usage_reads_the_current_experiment_by_default(exercise, recorded_tool_calls):
    mlflow.set_experiment(experiment_id=recorded_tool_calls["support"])

    usage = exercise.tool_usage()

    found = _calls_and_failures(usage)
    assert found == SUPPORT_AGENT, (
        "expected tool_usage() to read the current experiment (support-agent) only, not "
        f"other-agent's 3 failed calculator calls:\n{SUPPORT_AGENT}\nfound:\n{found}"
    )


def test_tool_usage_leaves_out_tools_that_were_never_called(exercise, recorded_tool_calls):
    usage = exercise.tool_usage(recorded_tool_calls["other"])

    found = _calls_and_failures(usage)
    assert found == {"calculator": (3, 3)}, (
        "expected only calculator (3 calls, 3 failures) for other-agent, whose agent never "
        f"called the other tools; found {found}"
    )


def test_tool_usage_gives_the_success_rate_of_each_tool(exercise, recorded_tool_calls):
    usage = exercise.tool_usage(recorded_tool_calls["support"])

    expected = {"search_documents": 1.0, "read_document": 0.75, "calculator": 0.5}
    found = {
        name: round(rate, 4) if isinstance(rate, int | float) else rate
        for name, rate in _field(usage, "success_rate").items()
    }
    assert found == expected, (
        f"expected success_rate = (calls - failures) / calls per tool:\n{expected}\nfound:\n{found}"
    )


def test_tool_usage_measures_the_agents_own_runs(exercise):
    agent = exercise.build_agent(
        scripted_chat_model(
            tool_call("search_documents", {"query": "alias"}),
            tool_call("read_document", {"name": "missing.md"}),
            tool_call("read_document", {"name": DOC}),
            "Aliases.",
            tool_call("calculator", {"expression": "1 +"}),
            "I could not calculate that.",
        )
    )
    _ask_agent(exercise, agent, "What replaced stages?")
    _ask_agent(exercise, agent, "What is 1 + ?")

    usage = exercise.tool_usage()

    found = _calls_and_failures(usage)
    expected = {"search_documents": (1, 0), "read_document": (2, 1), "calculator": (1, 1)}
    assert found == expected, (
        f"expected tool_usage() over the agent's two runs to give (calls, failures) "
        f"{expected}; found {found}"
    )
