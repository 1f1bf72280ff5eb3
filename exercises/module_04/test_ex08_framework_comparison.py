"""Checks for ex08_framework_comparison: one support agent in PydanticAI and in smolagents,
traced by MLflow's autologging, compared from their traces.

The agents talk to the kit's fake OpenAI server, scripted with the tool calls and the
answer; the comparison is also checked on traces made by hand in the shape the two
autologgers leave. pydantic_ai and smolagents are imported by the learner's code only
(never at collection).
"""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow.entities import SpanType

from fixtures.llm_server import ToolCall
from fixtures.messages import shown
from fixtures.traces import ancestors_of, find_spans, span_tree, trace_of

QUESTION = "Which span types exist, and what is 6 * 7?"
ANSWER = "Spans have types such as TOOL and AGENT; 6 * 7 = 42."
LOOKUP = ToolCall("lookup_document", {"query": "span types"})
CALCULATE = ToolCall("calculator", {"expression": "6 * 7"})
BAD_CALCULATION = ToolCall("calculator", {"expression": "6 *"})
FINAL = ToolCall("final_answer", {"answer": ANSWER})  # how a smolagents agent answers
TOOLS = {"calculator", "lookup_document"}
MODEL_TYPES = (SpanType.LLM, SpanType.CHAT_MODEL)


# --- helpers ---------------------------------------------------------------------------------


def ask(exercise, framework, *args):
    """Build the agent, ask QUESTION; the answer and the trace, or fail saying what was raised."""
    build = getattr(exercise, f"build_{framework}_agent")
    run = getattr(exercise, f"ask_{framework}")
    agent = build(*args)
    try:
        return trace_of(run, agent, QUESTION)
    except NotImplementedError:
        raise
    except Exception as err:  # the learner's mistake must read as a failed expectation
        pytest.fail(
            f"expected the {framework} agent to answer; it raised {type(err).__name__}: "
            f"{shown(str(err))}",
            pytrace=False,
        )


def model_calls(trace):
    """Outermost LLM/CHAT_MODEL spans: one per call of the model, however many autologgers."""
    return [
        span
        for span in trace.data.spans
        if span.span_type in MODEL_TYPES
        and not any(a.span_type in MODEL_TYPES for a in ancestors_of(trace, span))
    ]


def compare(exercise, *args):
    """compare_frameworks(*args), failing with a message unless it returned a dict."""
    stats = exercise.compare_frameworks(*args)
    if not isinstance(stats, dict):
        pytest.fail(
            f"expected compare_frameworks to return a dict of FrameworkStats by framework; "
            f"got {shown(stats)}",
            pytrace=False,
        )
    return stats


def tool_names_sent(request):
    return {tool["function"]["name"] for tool in (request.body or {}).get("tools") or []}


def system_text(request):
    messages = (request.body or {}).get("messages") or []
    first = messages[0] if messages else {}
    content = first.get("content")
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content)
    return first.get("role"), content or ""


def agent_like_trace(
    framework, *, tools=(), nested_model_call=True, tokens=10, tag=True, latency_ms=500
):
    """A trace shaped like an autologged agent's, made by hand (fast, and exact: it lasts
    ``latency_ms``)."""
    start = time.time_ns()
    tags = {"framework": framework} if tag else None
    root = mlflow.start_span_no_context(
        name="agent_run", span_type=SpanType.AGENT, tags=tags, start_time_ns=start
    )
    usage = {"input_tokens": (tokens or 2) - 2, "output_tokens": 2, "total_tokens": tokens}
    llm = mlflow.start_span_no_context(
        name="model.request", span_type=SpanType.LLM, parent_span=root
    )
    if tokens is not None:  # None: a model that reports no usage
        llm.set_attribute("mlflow.chat.tokenUsage", usage)
    if nested_model_call:  # the OpenAI client's own span, under the framework's
        chat = mlflow.start_span_no_context(
            name="Completions", span_type=SpanType.CHAT_MODEL, parent_span=llm
        )
        if tokens is not None:
            chat.set_attribute("mlflow.chat.tokenUsage", usage)
        chat.end()
    llm.end()
    for name, function_name in tools:
        tool = mlflow.start_span_no_context(name=name, span_type=SpanType.TOOL, parent_span=root)
        if function_name:
            tool.set_attribute("function", {"name": function_name})
        tool.end()
    root.end(end_time_ns=start + latency_ms * 1_000_000)
    return mlflow.get_trace(root.trace_id)


# --- PydanticAI --------------------------------------------------------------------------------


def test_the_pydantic_ai_agent_calls_the_chat_api_with_both_tools_and_the_system_prompt(
    exercise, fake_llm_env
):
    fake_llm_env.script(LOOKUP, CALCULATE, ANSWER)

    answer, _ = ask(exercise, "pydantic_ai")

    assert answer == ANSWER, f"expected the model's final text {ANSWER!r}; got {shown(answer)}"
    requests = fake_llm_env.chat_requests
    assert len(requests) == 3, (
        f"expected 3 chat completions requests (lookup, calculator, answer); the fake "
        f"server got {len(requests)} on {[r.path for r in fake_llm_env.requests]}"
    )
    assert tool_names_sent(requests[0]) == TOOLS, (
        f"expected the tools {sorted(TOOLS)} in the request; found "
        f"{sorted(tool_names_sent(requests[0]))}"
    )
    role, text = system_text(requests[0])
    assert role == "system" and text == exercise.SYSTEM_PROMPT, (
        f"expected SYSTEM_PROMPT as the first (system) message; found {role}: {shown(text)}"
    )


def test_a_pydantic_ai_run_is_one_trace_of_agent_model_and_tool_spans(exercise, fake_llm_env):
    fake_llm_env.script(LOOKUP, CALCULATE, ANSWER)

    _, trace = ask(exercise, "pydantic_ai")

    agents = find_spans(trace, span_type=SpanType.AGENT)
    assert agents and agents[0].parent_id is None, (
        f"expected an AGENT span at the root (mlflow.pydantic_ai.autolog()); found spans:\n"
        f"{span_tree(trace)}"
    )
    assert len(model_calls(trace)) == 3, (
        f"expected 3 model calls (LLM spans) in the trace; found spans:\n{span_tree(trace)}"
    )
    tools = {span.name for span in find_spans(trace, span_type=SpanType.TOOL)}
    assert tools == TOOLS, (
        f"expected TOOL spans named {sorted(TOOLS)}; found spans:\n{span_tree(trace)}"
    )
    usage = trace.info.token_usage or {}
    assert usage.get("total_tokens", 0) > 0, (
        f"expected the trace to carry the model's token usage; found {shown(usage)}"
    )


def test_a_bad_expression_makes_the_pydantic_ai_model_try_again(exercise, fake_llm_env):
    fake_llm_env.script(BAD_CALCULATION, CALCULATE, ANSWER)

    answer, trace = ask(exercise, "pydantic_ai")

    assert answer == ANSWER, f"expected the agent to recover and answer; got {shown(answer)}"
    statuses = [s.status.status_code for s in find_spans(trace, "calculator", SpanType.TOOL)]
    assert [str(getattr(s, "value", s)) for s in statuses] == ["ERROR", "OK"], (
        f"expected two calculator spans, the failed one ERROR then OK; found spans:\n"
        f"{span_tree(trace)}"
    )
    retry = fake_llm_env.chat_requests[1].body["messages"][-1]
    assert "6 *" in str(retry.get("content")), (
        f"expected the model to be told what went wrong with '6 *'; its next request ended "
        f"with {shown(retry)}"
    )


# --- smolagents --------------------------------------------------------------------------------


def test_the_smolagents_agent_calls_tools_through_the_api_not_through_code(exercise, fake_llm_env):
    fake_llm_env.script(LOOKUP, CALCULATE, FINAL)

    answer, _ = ask(exercise, "smolagents")

    sent = tool_names_sent(fake_llm_env.chat_requests[0]) if fake_llm_env.chat_requests else set()
    assert sent == TOOLS | {"final_answer"}, (
        f"expected a ToolCallingAgent, which sends its tools {sorted(TOOLS)} (and "
        f"'final_answer') as API tools; the request had {sorted(sent) or 'no tools'}. "
        "A CodeAgent asks for Python code instead and runs it."
    )
    assert answer == ANSWER, f"expected the final_answer {ANSWER!r}; got {shown(answer)}"
    _, text = system_text(fake_llm_env.chat_requests[0])
    assert exercise.SYSTEM_PROMPT in text, (
        f"expected SYSTEM_PROMPT in the system message (instructions=); found {shown(text)}"
    )


def test_the_smolagents_trace_has_every_model_call_with_its_tokens(exercise, fake_llm_env):
    fake_llm_env.script(LOOKUP, CALCULATE, FINAL)

    _, trace = ask(exercise, "smolagents")

    calls, requests = model_calls(trace), fake_llm_env.chat_requests
    assert len(calls) == len(requests) == 3, (
        f"expected 3 chat requests (lookup, calculator, final answer) and a model span for "
        f"each; the model got {len(requests)} and the trace has {len(calls)}:\n"
        f"{span_tree(trace)}\nsmolagents' autolog traces the agent and its tools but not "
        "model.generate(): which other autolog sees the OpenAI calls?"
    )
    usage = trace.info.token_usage or {}
    assert usage.get("total_tokens", 0) > 0, (
        f"expected the trace to carry the model's token usage; found {shown(usage)}"
    )


def test_a_bad_expression_reaches_the_smolagents_model_and_the_trace_stays_complete(
    exercise, fake_llm_env
):
    fake_llm_env.script(BAD_CALCULATION, CALCULATE, FINAL)

    answer, trace = ask(exercise, "smolagents")

    assert answer == ANSWER, f"expected the agent to recover and answer; got {shown(answer)}"
    calls, requests = model_calls(trace), fake_llm_env.chat_requests
    assert len(calls) == len(requests) == 3, (
        f"expected 3 chat requests and all 3 model calls in the trace, including those after "
        f"the failed calculation; the model got {len(requests)} and the trace has "
        f"{len(calls)}:\n{span_tree(trace)}\n(a smolagents tool that raises makes MLflow stop "
        "tracing the rest of the run: return the error instead)"
    )
    tools = find_spans(trace, span_type=SpanType.TOOL)
    assert len(tools) == 3, (
        f"expected 3 TOOL spans (calculator twice, final_answer); found:\n{span_tree(trace)}"
    )


# --- both ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "framework, final",
    [("pydantic_ai", ANSWER), ("smolagents", FINAL)],
    ids=["pydantic_ai", "smolagents"],
)
def test_each_answer_is_one_trace_tagged_with_its_framework(
    exercise, fake_llm_env, framework, final
):
    fake_llm_env.script(CALCULATE, final)

    _, trace = ask(exercise, framework)

    tag = trace.info.tags.get("framework")
    assert tag == framework, f"expected the tag framework={framework!r}; found {shown(tag)}"
    assert len(mlflow.search_traces(return_type="list")) == 1, "expected exactly one trace"


# --- the comparison ---------------------------------------------------------------------------


def test_compare_counts_a_model_call_traced_by_two_autologgers_once(exercise):
    agent_like_trace("pydantic_ai", nested_model_call=True)
    agent_like_trace("pydantic_ai", nested_model_call=True)

    stats = compare(exercise)

    found = getattr(stats.get("pydantic_ai"), "llm_calls", None)
    assert found == 2, (
        f"expected 2 model calls (one per trace: an LLM span with the OpenAI client's "
        f"CHAT_MODEL span under it is one call); found llm_calls={shown(found)}"
    )


def test_compare_names_a_smolagents_tool_by_its_function_not_its_class(exercise):
    agent_like_trace("smolagents", tools=[("SimpleTool.__call__", "calculator")] * 2)
    agent_like_trace("pydantic_ai", tools=[("calculator", None)])

    stats = compare(exercise)

    found = {k: getattr(v, "tool_calls", None) for k, v in stats.items()}
    expected = {"smolagents": {"calculator": 2}, "pydantic_ai": {"calculator": 1}}
    assert found == expected, f"expected tool_calls {expected}; found {shown(found)}"


def test_compare_leaves_out_traces_without_a_framework_tag(exercise):
    agent_like_trace("smolagents")
    agent_like_trace("", tag=False)

    stats = compare(exercise)

    assert set(stats) == {"smolagents"}, (
        f"expected only the tagged framework 'smolagents'; found {shown(sorted(map(str, stats)))}"
    )


def test_compare_sums_tokens_and_averages_latency_per_framework(exercise):
    traces = [
        agent_like_trace("smolagents", tokens=10, latency_ms=100),
        agent_like_trace("smolagents", tokens=30, latency_ms=200),
        agent_like_trace("smolagents", tokens=None, latency_ms=600),  # no usage: counts as 0
    ]

    stats = compare(exercise).get("smolagents")

    spans = sum(len(t.data.spans) for t in traces)
    latency = 300.0  # (100 + 200 + 600) / 3
    found = {k: getattr(stats, k, None) for k in ("runs", "spans", "total_tokens")}
    expected = {"runs": 3, "spans": spans, "total_tokens": 40}
    assert found == expected, (
        f"expected {expected} (10 + 30 tokens, and 0 for the trace without usage); "
        f"found {shown(found)}"
    )
    mean = getattr(stats, "mean_latency_ms", None)
    assert mean == pytest.approx(latency), (
        f"expected mean_latency_ms={latency} (the mean of the 3 traces' execution_time_ms); "
        f"found {shown(mean)}"
    )


def test_compare_reads_the_experiment_it_is_given(exercise):
    first = mlflow.set_experiment("agents-a").experiment_id
    agent_like_trace("pydantic_ai")
    mlflow.set_experiment("agents-b")  # now the current experiment
    agent_like_trace("smolagents")

    stats = compare(exercise, first)

    assert set(stats) == {"pydantic_ai"}, (
        f"expected only the traces of experiment {first} (its framework 'pydantic_ai'), "
        f"while another experiment is current; found {shown(sorted(map(str, stats)))}"
    )


def test_compare_reads_the_current_experiment_by_default(exercise):
    mlflow.set_experiment("agents-a")
    agent_like_trace("pydantic_ai")
    mlflow.set_experiment("agents-b")
    agent_like_trace("smolagents")

    stats = compare(exercise)

    assert set(stats) == {"smolagents"}, (
        f"expected only the traces of the current experiment 'agents-b' (framework "
        f"'smolagents'); found {shown(sorted(map(str, stats)))}"
    )


def test_compare_tells_the_two_real_agents_apart(exercise, fake_llm_env):
    pydantic_agent = exercise.build_pydantic_ai_agent()
    smol_agent = exercise.build_smolagents_agent()  # both autologs on, as in a real app
    fake_llm_env.script(CALCULATE, ANSWER, CALCULATE, FINAL)
    exercise.ask_pydantic_ai(pydantic_agent, QUESTION)
    exercise.ask_smolagents(smol_agent, QUESTION)

    stats = compare(exercise)

    found = {
        name: (getattr(s, "llm_calls", None), getattr(s, "tool_calls", None))
        for name, s in stats.items()
    }
    expected = {
        "pydantic_ai": (2, {"calculator": 1}),
        "smolagents": (2, {"calculator": 1, "FinalAnswerTool.__call__": 1}),
    }
    assert found == expected, (
        f"expected (llm_calls, tool_calls) per framework {expected}; found {found}. A "
        "smolagents tool records its name on its span (attribute function = {'name': ...})."
    )


def test_the_smolagents_agent_gives_up_after_max_steps(exercise, fake_llm_env):
    fake_llm_env.script(*[CALCULATE] * 30)  # a model that never stops calling the calculator

    ask(exercise, "smolagents")

    limit = exercise.MAX_STEPS + 1  # the steps, then smolagents' last "give your answer" call
    found = len(fake_llm_env.chat_requests)
    assert found <= limit, (
        f"expected at most {limit} chat requests for a model that never stops calling tools "
        f"(max_steps=MAX_STEPS={exercise.MAX_STEPS} steps, then one request for a final "
        f"answer); the model got {found}"
    )


def test_the_smolagents_agent_prints_nothing(exercise, fake_llm_env, capsys):
    fake_llm_env.script(CALCULATE, FINAL)

    ask(exercise, "smolagents")

    printed = capsys.readouterr().out
    assert printed == "", (
        f"expected no console output from the agent (verbosity_level=LogLevel.OFF); it "
        f"printed {len(printed.splitlines())} lines, starting {shown(printed[:200])}"
    )
