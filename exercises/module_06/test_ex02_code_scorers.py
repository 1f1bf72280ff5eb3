"""Checks for ex02_code_scorers: code scorers, called alone and inside mlflow.genai.evaluate."""

import mlflow
import pytest
from mlflow.entities import Feedback, SpanType

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.messages import shown
from fixtures.traces import search_traces, span_tree, trace_of

SCORERS = ["exact_match", "facts_found", "answer_words", "latency_ms", "span_count"]

# question -> (what the app answers, expected_response, expected_facts)
CASES = {
    "What replaced model stages in the registry?": ("  Aliases ", "aliases", ["aliases"]),
    "Which decorator traces a function?": ("@mlflow.trace", "@mlflow.trace", ["@mlflow.trace"]),
    "Which similarity measure ignores vector length?": (
        "Use cosine similarity, which ignores vector length",
        "cosine similarity",
        ["cosine similarity", "compares direction"],
    ),
    "Which master URL runs Spark locally on every core?": (
        "I don't know",
        "local[*]",
        ["local[*]"],
    ),
}
DATA = [
    {
        "inputs": {"question": question},
        "expectations": {"expected_response": expected, "expected_facts": facts},
    }
    for question, (_, expected, facts) in CASES.items()
]
EXPECTED_METRICS = {
    "exact_match/mean": 0.5,  # rows 1 and 2 match, ignoring case and whitespace
    "facts_found/mean": (1 + 1 + 0.5 + 0) / 4,
    "answer_words/mean": (1 + 1 + 7 + 3) / 4,
    "span_count/mean": 3.0,
}


@mlflow.trace(span_type=SpanType.RETRIEVER)
def _retrieve(question):
    return [{"page_content": "Aliases replaced stages.", "metadata": {"doc_uri": "registry.md"}}]


@mlflow.trace(span_type=SpanType.LLM)
def _generate(question, documents):
    return CASES[question][0]


@mlflow.trace(name="qa_app", span_type=SpanType.CHAIN)
def qa_app(question: str) -> str:
    """The app under evaluation: three spans per call (app, retriever, LLM)."""
    return _generate(question, _retrieve(question))


def _call(scorer, **kwargs):
    """Call a scorer (a @scorer object or a plain function) with keyword arguments; its
    value, whether it returned a plain value or a Feedback (MLflow accepts both)."""
    value = scorer(**kwargs)
    return value.value if isinstance(value, Feedback) else value


# --- each scorer on its own -------------------------------------------------------------


def test_exact_match_ignores_case_and_surrounding_whitespace(exercise):
    expectations = {"expected_response": "aliases"}

    same = _call(exercise.exact_match, outputs="  Aliases \n", expectations=expectations)
    other = _call(exercise.exact_match, outputs="model aliases", expectations=expectations)

    assert same is True or same == 1, (
        f"expected exact_match('  Aliases \\n' vs 'aliases') to be True; got {shown(same)}"
    )
    assert other is False or other == 0, (
        f"expected exact_match('model aliases' vs 'aliases') to be False; got {shown(other)}"
    )


def test_exact_match_ignores_repeated_whitespace_inside_the_answer(exercise):
    expectations = {"expected_response": "Cosine similarity"}

    same = _call(exercise.exact_match, outputs="cosine   similarity", expectations=expectations)
    split = _call(exercise.exact_match, outputs="cosine\n\tsimilarity", expectations=expectations)

    assert (same is True or same == 1) and (split is True or split == 1), (
        "expected exact_match('cosine   similarity' and 'cosine\\n\\tsimilarity' vs "
        f"'Cosine similarity') to be True: runs of whitespace count as one space; got "
        f"{shown(same)} and {shown(split)}"
    )


def test_facts_found_is_the_fraction_of_expected_facts_in_the_answer(exercise):
    expectations = {"expected_facts": ["Cosine similarity", "direction", "magnitude", "dot"]}

    found = _call(
        exercise.facts_found,
        outputs="cosine similarity compares the direction of two vectors",
        expectations=expectations,
    )

    assert found == pytest.approx(0.5), (
        "expected facts_found to be 0.5: 2 of the 4 expected facts ('Cosine similarity', "
        f"'direction') appear in the answer, ignoring case; got {shown(found)}"
    )


def test_answer_words_counts_the_words_of_the_answer(exercise):
    words = _call(exercise.answer_words, outputs="Use  cosine\nsimilarity.")
    assert words == 3, (
        f"expected answer_words('Use  cosine\\nsimilarity.') to be 3; got {shown(words)}"
    )


def test_span_count_and_latency_are_read_from_the_trace(exercise):
    _, trace = trace_of(qa_app, "Which decorator traces a function?")

    spans = _call(exercise.span_count, trace=trace)
    latency = _call(exercise.latency_ms, trace=trace)

    assert spans == len(trace.data.spans) == 3, (
        f"expected span_count to count every span of the trace, {len(trace.data.spans)}; "
        f"got {shown(spans)}. The trace:\n{span_tree(trace)}"
    )
    assert latency == trace.info.execution_time_ms, (
        "expected latency_ms to be the trace's own duration, trace.info.execution_time_ms "
        f"= {trace.info.execution_time_ms}; got {shown(latency)}"
    )


# --- the scorers inside an evaluation ---------------------------------------------------


@pytest.fixture
def evaluated(exercise, monkeypatch):
    # qa_app is traced already: MLflow's first-sample check (a second call of the app with
    # every autologger on, to see whether it traces) would only cost time.
    monkeypatch.setenv("MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION", "true")
    result = exercise.evaluate_app(qa_app, DATA)
    run_id = getattr(result, "run_id", None)
    assert isinstance(run_id, str) and run_id, (
        f"expected evaluate_app to return mlflow.genai.evaluate's result; got {shown(result)}"
    )
    return result, search_traces(run_id=run_id)


def test_every_row_gets_an_assessment_from_every_scorer_on_its_trace(evaluated):
    _, traces = evaluated

    assert len(traces) == len(DATA), (
        f"expected one trace per record ({len(DATA)}) in the evaluation run; found {len(traces)}"
    )
    for trace in traces:
        found = assessments(trace, source_type="CODE")
        names = sorted({a.name for a in found if a.error is None})
        assert names == sorted(SCORERS), (
            f"expected a CODE assessment from each scorer {SCORERS} on every trace; found "
            f"{describe_assessments(assessments(trace))}. Pass all five scorers to evaluate."
        )


def test_per_row_values_match_each_trace(evaluated):
    _, traces = evaluated

    for trace in traces:
        question = trace.data.spans[0].inputs.get("question") if trace.data.spans else None
        answer, expected, _ = CASES.get(question, (None, None, None))
        values = {a.name: assessment_value(a) for a in assessments(trace, source_type="CODE")}
        assert values.get("span_count") == len(trace.data.spans), (
            f"expected span_count={len(trace.data.spans)} on the trace of {question!r}; found "
            f"{values.get('span_count')!r}. The trace:\n{span_tree(trace)}"
        )
        assert values.get("latency_ms") == trace.info.execution_time_ms, (
            f"expected latency_ms={trace.info.execution_time_ms} (the trace's duration) on "
            f"the trace of {question!r}; found {values.get('latency_ms')!r}"
        )
        matches = answer.strip().lower() == expected
        assert bool(values.get("exact_match")) is matches, (
            f"expected exact_match={matches} for the answer {answer!r} to {question!r} "
            f"(expected {expected!r}); found {values.get('exact_match')!r}"
        )


def test_the_averages_land_in_the_evaluation_runs_metrics(evaluated):
    result, _ = evaluated

    metrics = mlflow.get_run(result.run_id).data.metrics
    for key, expected in EXPECTED_METRICS.items():
        assert metrics.get(key) == pytest.approx(expected), (
            f"expected the run metric {key} = {expected}; found {metrics.get(key)!r} "
            f"(all metrics: {metrics})"
        )
    assert "latency_ms/mean" in metrics, f"expected a latency_ms/mean metric; found {metrics}"
