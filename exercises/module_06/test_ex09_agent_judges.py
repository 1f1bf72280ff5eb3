"""Checks for ex09_agent_judges: tool-call and retrieval judges over an agent's traces.

The fake judge model answers by content (scorers run in parallel, so queued verdicts
would arrive in no fixed order): it finds documents about logged models irrelevant,
and a repeated tool call redundant.
"""

import re

import mlflow
import pytest

from fixtures.agent_traces import DOCS, STAGES, TRACING_TWICE, rank_docs, support_agent
from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.judge_calls import JudgeCall, answer_by_content
from fixtures.judges import JUDGE_MODEL
from fixtures.messages import shown
from fixtures.traces import find_spans, search_traces, span_tree

JUDGES = [
    "tool_call_correctness",
    "tool_call_efficiency",
    "retrieval_relevance",
    "retrieval_sufficiency",
]
CASES = {
    STAGES: (["search_docs"], ["Aliases replaced model stages."]),
    TRACING_TWICE: (["search_docs"], ["@mlflow.trace traces a function."]),
}
OFF_TOPIC = "logged model"  # the fake judge finds documents that say this irrelevant


def _plays_the_judges(call: JudgeCall):
    if call.judge == "retrieval_relevance":
        return ("no", "About logged models.") if OFF_TOPIC in call.tag("document") else "yes"
    if call.judge == "tool_call_efficiency":
        made = re.findall(
            r"Tool Call \d+: (.*?)\n\s*Input Arguments: (.*?)\n", call.tag("tools_called")
        )
        return ("no", "The same search twice.") if len(made) != len(set(made)) else "yes"
    return "yes"


def _question_of(trace):
    root = next((s for s in trace.data.spans if s.parent_id is None), None)
    return (root.inputs or {}).get("question") if root else None


def _run(exercise, judge_llm):
    judge_llm.server.responder = answer_by_content(_plays_the_judges)
    rows = [exercise.eval_row(q, tools, facts) for q, (tools, facts) in CASES.items()]
    result = exercise.evaluate_agent(support_agent(exercise.retrieve), rows, JUDGE_MODEL)
    run_id = getattr(result, "run_id", None)
    assert run_id, f"expected mlflow.genai.evaluate's result to be returned; got {shown(result)}"
    return result, {_question_of(t): t for t in search_traces(run_id=run_id)}


def _calls_of(judge_llm, judge):
    return [c for c in map(JudgeCall, judge_llm.calls) if c.judge == judge]


# --- every judge, on every run ------------------------------------------------------------------


def test_each_agent_judge_gives_every_run_a_verdict_from_the_judge_model(exercise, judge_llm):
    _, traces = _run(exercise, judge_llm)

    for question, trace in traces.items():
        found = assessments(trace)
        for name in JUDGES:
            judged = [
                a
                for a in found
                if a.name == name and a.error is None and a.source.source_type == "LLM_JUDGE"
            ]
            errors = [a.error.error_message for a in found if a.name == name and a.error]
            assert judged, (
                f"expected a '{name}' verdict from the judge model on the run of {question!r}; "
                f"found {describe_assessments(found)}"
                + (f"; the judge failed: {errors[0][:160]}" if errors else "")
                + f". The trace:\n{span_tree(trace)}"
            )
            assert {a.source.source_id for a in judged} == {JUDGE_MODEL}, (
                f"expected '{name}' to ask {JUDGE_MODEL!r}; its source ids are "
                f"{sorted({a.source.source_id for a in judged})}. Pass model=judge_model."
            )


def test_the_retriever_span_returns_each_document_with_its_text_and_source(exercise, judge_llm):
    _, traces = _run(exercise, judge_llm)

    trace = traces[STAGES]
    retrievers = find_spans(trace, span_type="RETRIEVER")
    assert len(retrievers) == 1, (
        f"expected one RETRIEVER span in the run of {STAGES!r}; found:\n{span_tree(trace)}"
    )
    expected = [
        {"page_content": text, "metadata": {"doc_uri": uri}}
        for uri, text in rank_docs("model stages")
    ]
    assert retrievers[0].outputs == expected, (
        f"expected the RETRIEVER span's outputs to be the documents, best first, "
        f"{expected}; found {shown(retrievers[0].outputs)}"
    )
    asked = sorted(c.tag("document") for c in _calls_of(judge_llm, "retrieval_relevance"))
    # the second run searches twice: two RETRIEVER spans, each judged on its own
    texts = [DOCS[uri] for uri, _ in rank_docs("model stages")] + [DOCS["tracing.md"]] * 2
    assert asked == sorted(texts), (
        f"expected the relevance judge to be asked once per retrieved document of each "
        f"RETRIEVER span ({len(texts)} in the two runs); it was shown {shown(asked)}"
    )


def test_relevance_is_judged_per_document_and_summed_up_as_precision(exercise, judge_llm):
    result, traces = _run(exercise, judge_llm)

    stages = traces[STAGES].info.trace_id
    verdicts = exercise.chunk_relevance(stages)
    assert verdicts == ["yes", "no"], (
        f"expected chunk_relevance to give the per-document verdicts in retrieval order, "
        f"['yes', 'no'] (the second document is about logged models); got {shown(verdicts)}. "
        f"On the trace: {describe_assessments(assessments(stages))}"
    )
    precision = [
        assessment_value(a) for a in assessments(stages, name="retrieval_relevance/precision")
    ]
    assert precision == [pytest.approx(0.5)], (
        f"expected one retrieval_relevance/precision feedback of 0.5; found {shown(precision)}"
    )
    metrics = mlflow.get_run(result.run_id).data.metrics
    # one precision per RETRIEVER span: 0.5 (stages), 1.0 and 1.0 (the search done twice)
    assert metrics.get("retrieval_relevance/precision/mean") == pytest.approx(2.5 / 3), (
        f"expected retrieval_relevance/precision/mean = 0.833 (0.5, 1.0, 1.0); found {metrics}"
    )


def test_the_sufficiency_judge_is_given_the_expected_facts(exercise, judge_llm):
    _, traces = _run(exercise, judge_llm)

    claims = [c.tag("claim") for c in _calls_of(judge_llm, "retrieval_sufficiency")]
    for question, (_, facts) in CASES.items():
        assert any(all(f in claim for f in facts) and question in claim for claim in claims), (
            f"expected the sufficiency judge to check the facts {facts} for {question!r}; the "
            f"claims it was shown: {claims}. Put them in the row's expectations as "
            "'expected_facts'."
        )
        logged = [assessment_value(a) for a in assessments(traces[question], name="expected_facts")]
        assert logged == [facts], (
            f"expected the expectation expected_facts = {facts} on the run of {question!r}; "
            f"found {shown(logged)}"
        )


def test_tool_call_correctness_compares_with_the_expected_tool_calls(exercise, judge_llm):
    _, traces = _run(exercise, judge_llm)

    calls = _calls_of(judge_llm, "tool_call_correctness")
    expected_parts = [c.tag("expected_tool_calls") for c in calls]
    assert len(calls) == len(CASES) and all("search_docs" in p for p in expected_parts), (
        f"expected each tool-call correctness request to list the expected tool calls "
        f"(search_docs); found {expected_parts}. Without expected_tool_calls the judge only "
        "guesses whether the tools were reasonable."
    )
    logged = [assessment_value(a) for a in assessments(traces[STAGES], name="expected_tool_calls")]
    assert logged == [[{"name": "search_docs"}]], (
        "expected the expectation expected_tool_calls = [{'name': 'search_docs'}]; "
        f"found {shown(logged)}"
    )


def test_a_repeated_search_is_judged_inefficient(exercise, judge_llm):
    result, traces = _run(exercise, judge_llm)

    values = {
        q: [assessment_value(a) for a in assessments(t, name="tool_call_efficiency")]
        for q, t in traces.items()
    }
    assert values == {STAGES: ["yes"], TRACING_TWICE: ["no"]}, (
        f"expected tool_call_efficiency 'yes' for one search and 'no' for the same search "
        f"twice; found {shown(values)}"
    )
    metrics = mlflow.get_run(result.run_id).data.metrics
    assert metrics.get("tool_call_efficiency/mean") == pytest.approx(0.5), (
        f"expected tool_call_efficiency/mean = 0.5; found {metrics}"
    )


def test_chunk_relevance_of_a_trace_never_judged_is_empty(exercise):
    support_agent(exercise.retrieve)(question=STAGES)
    trace_id = mlflow.get_last_active_trace_id()

    found = exercise.chunk_relevance(trace_id)
    assert found == [], f"expected [] for a trace with no relevance verdicts; got {shown(found)}"
