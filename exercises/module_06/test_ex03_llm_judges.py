"""Checks for ex03_llm_judges: built-in LLM judges answered by the fake judge model."""

import json

import mlflow
import pytest
from mlflow.entities import SpanType

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.judges import JUDGE_MODEL, judge_failure, verdict
from fixtures.messages import describe, shown
from fixtures.traces import search_traces

GUIDELINES = (
    "The response uses plain language that a newcomer to MLflow understands, "
    "and spells out any acronym it uses."
)
JUDGES = ["correctness", "relevance_to_query", "retrieval_groundedness", "plain_language"]
RATIONALE = "The documents say so, in plain words."

CASES = {
    "What replaced model stages in the registry?": ("Aliases replaced stages.", "aliases"),
    "Which decorator traces a function?": ("Use @mlflow.trace.", "@mlflow.trace"),
    "Which master URL runs Spark locally on every core?": ("Use local[*].", "local[*]"),
}
DATA = [
    {"inputs": {"question": q}, "expectations": {"expected_response": expected}}
    for q, (_, expected) in CASES.items()
]
SAD, FAILING = list(CASES)[1], list(CASES)[2]


@mlflow.trace(span_type=SpanType.RETRIEVER)
def _retrieve(question):
    return [{"page_content": CASES[question][0], "metadata": {"doc_uri": "docs.md"}}]


@mlflow.trace(name="qa_app", span_type=SpanType.CHAIN)
def qa_app(question: str) -> str:
    """The app under evaluation: its answer, with a retriever span to ground it."""
    _retrieve(question)
    return CASES[question][0]


def _question_of(trace):
    root = next((s for s in trace.data.spans if s.parent_id is None), None)
    return (root.inputs or {}).get("question") if root else None


def _evaluate(exercise):
    result = exercise.evaluate_with_judges(qa_app, DATA, JUDGE_MODEL)
    run_id = getattr(result, "run_id", None)
    assert run_id, f"expected mlflow.genai.evaluate's result to be returned; got {shown(result)}"
    return result, {_question_of(t): t for t in search_traces(run_id=run_id)}


# --- the judges ------------------------------------------------------------------------------


def test_the_guidelines_judge_checks_the_plain_language_rule(exercise, judge_llm):
    judges = exercise.builtin_judges(JUDGE_MODEL)

    named = [j for j in judges or [] if getattr(j, "name", None) == "plain_language"]
    assert len(named) == 1, (
        f"expected one judge named 'plain_language' among the judges; found {describe(judges)}"
    )
    question = list(CASES)[0]
    named[0](inputs={"question": question}, outputs=CASES[question][0])
    sent = " ".join(json.dumps(c.body.get("messages")) for c in judge_llm.calls)
    assert json.dumps(GUIDELINES)[1:-1] in sent, (
        f"expected the 'plain_language' judge to show the judge model the rule {GUIDELINES!r} "
        "(Guidelines(guidelines=GUIDELINES, ...)); its request did not contain it"
    )


# --- judges inside mlflow.genai.evaluate ----------------------------------------------------


def test_every_row_gets_a_verdict_and_rationale_from_each_judge_model(exercise, judge_llm):
    judge_llm.server.responder = lambda request: verdict("yes", RATIONALE)

    _, traces = _evaluate(exercise)

    assert len(judge_llm.calls) == len(DATA) * len(JUDGES), (
        f"expected the judge model to be asked {len(DATA) * len(JUDGES)} times (4 judges x "
        f"{len(DATA)} rows); it was asked {len(judge_llm.calls)} times. Every judge must be "
        "an LLM judge that calls its model."
    )
    for question, trace in traces.items():
        for name in JUDGES:
            found = assessments(trace, name=name)
            judged = [a for a in found if a.source and a.source.source_id == JUDGE_MODEL]
            assert judged and all(a.source.source_type == "LLM_JUDGE" for a in judged), (
                f"expected a '{name}' verdict with the source LLM_JUDGE and source id "
                f"{JUDGE_MODEL!r} on the trace of {question!r}; found "
                f"{[(a.name, a.source.source_type, a.source.source_id) for a in found]}. "
                "Pass model=judge_model to every judge."
            )
            assert judged[0].rationale == RATIONALE, (
                f"expected the judge's rationale {RATIONALE!r} on '{name}'; found "
                f"{judged[0].rationale!r}"
            )


def test_a_no_from_a_judge_lowers_that_judges_mean(exercise, judge_llm):
    def responder(request):
        return verdict("no" if SAD in request.last_user_text else "yes")

    judge_llm.server.responder = responder

    result, traces = _evaluate(exercise)

    sad = {a.name: assessment_value(a) for a in assessments(traces[SAD], source_type="LLM_JUDGE")}
    found = describe_assessments(assessments(traces[SAD]))
    assert sad.get("correctness") == "no", (
        f"expected correctness='no' on the trace of {SAD!r}; found {found}"
    )
    metrics = mlflow.get_run(result.run_id).data.metrics
    expected = (len(DATA) - 1) / len(DATA)
    assert metrics.get("correctness/mean") == pytest.approx(expected), (
        f"expected correctness/mean = {expected:.3f} (one 'no' in {len(DATA)} rows); found "
        f"{metrics.get('correctness/mean')!r}"
    )


def test_a_failing_judge_call_is_recorded_on_its_row_and_the_evaluation_goes_on(
    exercise, judge_llm
):
    def responder(request):
        return judge_failure() if FAILING in request.last_user_text else verdict("yes")

    judge_llm.server.responder = responder

    result, traces = _evaluate(exercise)

    errors = [a for a in assessments(traces[FAILING]) if a.error is not None]
    assert {a.name for a in errors} >= {"correctness", "relevance_to_query"}, (
        f"expected the judges' failures to be recorded as errors on the trace of {FAILING!r}; "
        f"found {describe_assessments(assessments(traces[FAILING]))}"
    )
    others = [t for q, t in traces.items() if q != FAILING]
    for trace in others:
        values = {a.name: assessment_value(a) for a in assessments(trace, source_type="LLM_JUDGE")}
        assert values.get("correctness") == "yes", (
            f"expected the other rows to be judged normally; found {values} on "
            f"{_question_of(trace)!r}"
        )
    metrics = mlflow.get_run(result.run_id).data.metrics
    assert metrics.get("correctness/mean") == pytest.approx(1.0), (
        f"expected correctness/mean = 1.0 over the rows the judge could score; found {metrics}"
    )


# --- judging a stored trace after the fact ---------------------------------------------------


@pytest.fixture
def production_trace_id():
    qa_app("What replaced model stages in the registry?")
    return mlflow.get_last_active_trace_id()


def test_judging_a_stored_trace_logs_each_verdict_with_its_llm_judge_source(
    exercise, judge_llm, production_trace_id
):
    judge_llm.server.responder = lambda request: verdict("yes", RATIONALE)

    exercise.judge_trace(production_trace_id, JUDGE_MODEL)

    assert len(judge_llm.calls) == 2, (
        f"expected the judge model to be asked twice (relevance and {JUDGES[-1]}); it was "
        f"asked {len(judge_llm.calls)} times"
    )
    for name in ("relevance_to_query", "plain_language"):
        found = assessments(production_trace_id, name=name)
        assert found, (
            f"expected a '{name}' feedback logged on the trace; found "
            f"{describe_assessments(assessments(production_trace_id))}"
        )
        source = found[0].source
        assert (source.source_type, source.source_id) == ("LLM_JUDGE", JUDGE_MODEL), (
            f"expected '{name}' to keep its source: LLM_JUDGE with the source id "
            f"{JUDGE_MODEL!r}; found {source.source_type} {source.source_id!r}. Log the "
            "judge's own Feedback (mlflow.log_assessment), or pass source= when you log it."
        )
        assert (assessment_value(found[0]), found[0].rationale) == ("yes", RATIONALE), (
            f"expected '{name}' = 'yes' with the judge's rationale {RATIONALE!r}; found "
            f"{assessment_value(found[0])!r} with {found[0].rationale!r}"
        )


def test_judging_a_stored_trace_returns_the_feedbacks_it_logged(
    exercise, judge_llm, production_trace_id
):
    judge_llm.server.responder = lambda request: verdict("yes", RATIONALE)

    returned = exercise.judge_trace(production_trace_id, JUDGE_MODEL)

    try:
        names = sorted(str(getattr(f, "name", None)) for f in returned)
    except TypeError:
        names = None
    assert names == ["plain_language", "relevance_to_query"], (
        "expected judge_trace to return the two feedbacks it logged (relevance_to_query and "
        f"plain_language); it returned {shown(returned)}"
    )


def test_a_judge_that_fails_on_a_stored_trace_is_logged_as_an_error_not_raised(
    exercise, judge_llm, production_trace_id
):
    judge_llm.fails()  # the first judge call fails, the second one says yes

    try:
        exercise.judge_trace(production_trace_id, JUDGE_MODEL)
    except NotImplementedError:
        raise
    except Exception as error:
        pytest.fail(
            "expected judge_trace to record the failing judge and carry on; it raised "
            f"{type(error).__name__}: {error}"
        )

    found = assessments(production_trace_id)
    failed = [a for a in found if a.error is not None]
    judged = [a for a in found if a.error is None and assessment_value(a) == "yes"]
    assert len(failed) == 1 and failed[0].name in ("relevance_to_query", "plain_language"), (
        "expected one feedback that records the failed judge call (error set, with the "
        f"judge's name); found {[(a.name, a.error) for a in found]}"
    )
    assert len(judged) == 1, (
        f"expected the other judge's verdict to be logged as well; found "
        f"{describe_assessments(found)}"
    )
