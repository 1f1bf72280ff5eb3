"""Checks for ex11_trace_judge: a make_judge judge over a whole trace, with {{ trace }}.

The fake judge model plays an agentic judge (``TraceInspector``): it calls
get_trace_info, list_spans, then get_root_span and get_span on each failed span,
and only then answers: true when a span failed and the root span's outputs do not
say so. MLflow runs those tools on the trace under judgement and sends the results
back, so the verdicts follow from what the tools returned.
"""

import mlflow

from fixtures.agent_traces import GREETING, STAGES, WEATHER_HIDDEN, WEATHER_REPORTED, run_scenario
from fixtures.assessments import assessments, describe_assessments
from fixtures.judge_calls import JudgeCall, TraceInspector, inspected_trace_ids
from fixtures.judges import JUDGE_MODEL
from fixtures.messages import shown

OWNED_UP = ("fail", "timed out", "error", "cannot")


def _hidden(seen):
    said = str(seen.root_outputs).lower()
    hidden = bool(seen.failed) and not any(word in said for word in OWNED_UP)
    names = [f["name"] for f in seen.failed]
    return hidden, f"failed spans {names}; the answer {'hides' if hidden else 'does not hide'} it"


def _judged(judge_llm):
    judge_llm.server.responder = TraceInspector(_hidden, fallback=False)


# --- the judge on one trace ------------------------------------------------------------------


def test_the_judge_reads_the_trace_through_the_judge_tools(exercise, judge_llm):
    judge = exercise.hidden_failure_judge(JUDGE_MODEL)
    trace_id = run_scenario(WEATHER_HIDDEN)
    _judged(judge_llm)

    feedback = judge(trace=mlflow.get_trace(trace_id))

    offered = JudgeCall(judge_llm.calls[0]).offered_tools
    assert {"list_spans", "get_span", "get_root_span"} <= set(offered), (
        f"expected the judge model to be offered MLflow's trace tools; it was offered "
        f"{offered}. Only instructions with {{{{ trace }}}} make an agentic judge."
    )
    fetched = [e.result for e in JudgeCall(judge_llm.calls[-1]).exchanges if e.name == "get_span"]
    assert any("timed out for Paris" in r for r in fetched), (
        f"expected the failing get_weather span of this trace to reach the judge through "
        f"get_span; the judge fetched {[r[:120] for r in fetched]}"
    )
    assert (getattr(judge, "name", None), getattr(feedback, "value", None)) == (
        "hidden_tool_failure",
        True,
    ), (
        f"expected the judge 'hidden_tool_failure' to say True on a hidden failure; got "
        f"{shown(getattr(judge, 'name', None))} = {shown(getattr(feedback, 'value', None))}"
    )


def test_the_judge_asks_for_a_true_or_false_verdict(exercise, judge_llm):
    judge = exercise.hidden_failure_judge(JUDGE_MODEL)
    _judged(judge_llm)

    judge(trace=mlflow.get_trace(run_scenario(WEATHER_REPORTED)))

    schema = (judge_llm.calls[-1].body.get("response_format") or {}).get("json_schema", {})
    result_type = schema.get("schema", {}).get("properties", {}).get("result", {}).get("type")
    assert result_type == "boolean", (
        f"expected the judge to ask for a boolean verdict (feedback_value_type=bool); the "
        f"response schema says {result_type!r}"
    )


def test_the_instructions_tell_the_judge_what_to_look_for(exercise, judge_llm):
    judge = exercise.hidden_failure_judge(JUDGE_MODEL)
    _judged(judge_llm)

    judge(trace=mlflow.get_trace(run_scenario(WEATHER_HIDDEN)))

    system = next(
        (
            m.get("content") or ""
            for m in JudgeCall(judge_llm.calls[0]).messages
            if m["role"] == "system"
        ),
        "",
    ).lower()
    assert "tool" in system and ("fail" in system or "error" in system), (
        "expected the instructions the judge model gets to name what to look for: a tool "
        "call that failed (words 'tool' and 'fail' or 'error'); they did not"
    )


# --- judging the stored traces ---------------------------------------------------------------


def _four_runs():
    return {q: run_scenario(q) for q in (GREETING, WEATHER_HIDDEN, STAGES, WEATHER_REPORTED)}


def test_only_traces_with_a_failed_span_go_to_the_judge(exercise, judge_llm):
    runs = _four_runs()
    _judged(judge_llm)

    exercise.judge_failed_traces(JUDGE_MODEL)

    inspected = sorted(inspected_trace_ids(judge_llm.calls))
    expected = sorted([runs[WEATHER_HIDDEN], runs[WEATHER_REPORTED]])
    names = {v: k for k, v in runs.items()}
    assert inspected == expected, (
        f"expected the judge to inspect only the two runs whose get_weather span failed "
        f"{[names[t] for t in expected]}; it inspected {[names.get(t, t) for t in inspected]}. "
        "Those traces end OK (the agent caught the error): filter on span.status."
    )
    for question in (GREETING, STAGES):
        assert not assessments(runs[question]), (
            f"expected no verdict on the run of {question!r} (no span failed); found "
            f"{describe_assessments(assessments(runs[question]))}"
        )


def test_a_hidden_failure_is_flagged_and_an_owned_up_one_is_not(exercise, judge_llm):
    runs = _four_runs()
    _judged(judge_llm)

    exercise.judge_failed_traces(JUDGE_MODEL)

    for question, expected in ((WEATHER_HIDDEN, True), (WEATHER_REPORTED, False)):
        found = assessments(runs[question], name="hidden_tool_failure", source_type="LLM_JUDGE")
        values = [(a.value, a.source.source_id) for a in found]
        assert values == [(expected, JUDGE_MODEL)], (
            f"expected one hidden_tool_failure = {expected} from {JUDGE_MODEL!r} on the run of "
            f"{question!r}; found {describe_assessments(assessments(runs[question]))}"
        )
        assert "get_weather" in (found[0].rationale or ""), (
            f"expected the judge's rationale on the trace; found {shown(found[0].rationale)}"
        )


def test_hidden_failures_lists_the_flagged_traces_oldest_first(exercise, judge_llm):
    first = run_scenario(WEATHER_HIDDEN)
    run_scenario(WEATHER_REPORTED)
    run_scenario(GREETING)
    second = run_scenario(WEATHER_HIDDEN)
    _judged(judge_llm)
    exercise.judge_failed_traces(JUDGE_MODEL)

    flagged = exercise.hidden_failures()

    assert flagged == [first, second], (
        f"expected the two runs that hid a failure, oldest first, {[first, second]}; "
        f"got {shown(flagged)}"
    )


def test_nothing_is_judged_when_no_span_failed(exercise, judge_llm):
    run_scenario(GREETING)
    run_scenario(STAGES)
    _judged(judge_llm)

    result = exercise.judge_failed_traces(JUDGE_MODEL)

    assert result is None and not judge_llm.calls, (
        f"expected no judge call and None when no span failed; got {shown(result)} after "
        f"{len(judge_llm.calls)} judge calls"
    )
    assert exercise.hidden_failures() == [], "expected no flagged trace"
