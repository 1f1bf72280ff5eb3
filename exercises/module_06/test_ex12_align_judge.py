"""Checks for ex12_align_judge: human feedback, agreement, and a judge aligned with MemAlign.

The fake models (fixtures/judge_alignment.py): the judge says "yes" to every
answer unless its instructions carry a rule "A good answer mentions 'WORD'.";
the reflection model distills such a rule from human feedback when one word
tells the approved answers from the rejected ones. Here the reviewers approve
only answers that point to the docs, so the judge agrees with them on half of
the held-out traces before alignment and on all of them after.

MemAlign calls its models through DSPy and litellm: every test takes the kit's
``litellm`` fixture before the learner's file is imported (MLflow's MemAlign
decides at import whether litellm is there), and DSPy is imported inside the
fixtures, never at collection.
"""

import mlflow
import pytest
from mlflow.entities import AssessmentSource, Feedback

from fixtures.assessments import assessment_value, assessments, describe_assessments
from fixtures.dspy_offline import offline_dspy
from fixtures.judge_alignment import alignment_responder, is_distillation_request
from fixtures.messages import shown
from fixtures.snapshots import store_snapshot

pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")

JUDGE_MODEL = "openai:/gpt-4o-mini"
REFLECTION_MODEL = "openai:/gpt-4o"  # not the default reflection model, to tell them apart
EMBEDDING_MODEL = "openai:/text-embedding-3-small"
GUIDELINE = "A good answer mentions 'docs'."

# question -> (the app's answer, the reviewers' verdict): 3 yes and 3 no to learn from,
# 2 and 2 held out (each call of an aligned judge waits 0.1 s for DSPy's retriever)
TRAIN = {
    "What replaced model stages?": ("Aliases replaced stages; see the registry docs.", "yes"),
    "Which decorator traces a function?": ("Use @mlflow.trace.", "no"),
    "How do I register a prompt?": ("Call register_prompt, as the prompt docs show.", "yes"),
    "What is a span?": ("A span is one step of a trace.", "no"),
    "How do I compare runs?": ("Open the runs table in the UI.", "no"),
    "What does autolog do?": ("It traces library calls; the autolog docs list them.", "yes"),
}
TEST = {
    "How do I search traces?": (
        "Call mlflow.search_traces; the tracing docs explain filters.",
        "yes",
    ),
    "What is a LoggedModel?": ("A model logged with its params and metrics.", "no"),
    "How do I set an alias?": ("Use set_registered_model_alias, see the registry docs.", "yes"),
    "What is a scorer?": ("A function that grades an answer.", "no"),
}
ANSWERS = {**TRAIN, **TEST}


@mlflow.trace(name="docs_assistant")
def docs_assistant(question: str) -> str:
    """The app whose answers people rated."""
    return ANSWERS[question][0]


def _trace(question):
    docs_assistant(question)
    return mlflow.get_trace(mlflow.get_last_active_trace_id())


@store_snapshot
def rated_traces():
    """A docs_assistant trace per question of TRAIN and TEST, with the reviewers' verdict
    logged by MLflow's own API, and one trace nobody rated; returns their trace ids."""
    ids = {}
    for name, cases in (("train", TRAIN), ("test", TEST)):
        ids[name] = []
        for question, (_, verdict) in cases.items():
            trace_id = _trace(question).info.trace_id
            mlflow.log_feedback(
                trace_id=trace_id,
                name="helpful",
                value=verdict,
                source=AssessmentSource(source_type="HUMAN", source_id="reviewer@docs"),
            )
            ids[name].append(trace_id)
    ids["unrated"] = _trace("What is a scorer?").info.trace_id
    return ids


@pytest.fixture(autouse=True)
def _litellm_before_the_exercise(litellm):
    """litellm importable before the learner's file imports MemAlign (autouse: set up
    before the ``exercise`` fixture)."""
    return litellm


@pytest.fixture
def models(fake_llm_env):
    """The fake judge, reflection and embedding models (fixtures/judge_alignment.py)."""
    offline_dspy()
    fake_llm_env.responder = alignment_responder
    return fake_llm_env


@pytest.fixture
def rated(rated_traces):
    """(train traces, held-out traces), read from the test's copy of the snapshot."""
    return tuple([mlflow.get_trace(i) for i in rated_traces[k]] for k in ("train", "test"))


def _align(exercise, train, test):
    judge = exercise.make_helpful_judge(JUDGE_MODEL)
    return exercise.align_with_humans(judge, train, test, REFLECTION_MODEL, EMBEDDING_MODEL)


# --- human feedback ------------------------------------------------------------------------


def test_a_human_verdict_is_human_feedback_named_like_the_judge(exercise):
    trace = _trace("What is a span?")

    returned = exercise.log_human_verdict(trace.info.trace_id, "no", "ana@docs", "Too vague.")

    found = assessments(trace, name="helpful", source_type="HUMAN")
    assert [(assessment_value(a), a.source.source_id, a.rationale) for a in found] == [
        ("no", "ana@docs", "Too vague.")
    ], (
        "expected one feedback 'helpful' = 'no' from the HUMAN source 'ana@docs' with its "
        f"rationale; found {describe_assessments(assessments(trace))}"
    )
    returned_id = getattr(returned, "assessment_id", None)
    assert returned_id == found[0].assessment_id, (
        "expected log_human_verdict to return the logged feedback (what mlflow.log_feedback "
        f"returns); got {shown(returned)}"
    )


def test_the_human_verdict_is_the_latest_human_one_never_a_judges(exercise):
    trace = _trace("What is a span?")
    # one second apart, so "latest" never rests on two feedbacks landing in the same ms
    first = trace.info.timestamp_ms + 1000
    for i, (value, source) in enumerate([("yes", "HUMAN"), ("No", "HUMAN"), ("yes", "LLM_JUDGE")]):
        mlflow.log_assessment(
            trace.info.trace_id,
            Feedback(
                name="helpful",
                value=value,
                source=AssessmentSource(source_type=source, source_id="x"),
                create_time_ms=first + 1000 * i,
            ),
        )

    found = exercise.human_verdict(trace)

    assert found == "no", (
        "expected the latest HUMAN verdict 'No', lower-cased: 'no' (a person changed their "
        f"mind; the judge's later 'yes' does not count); found {shown(found)}. On the trace: "
        f"{describe_assessments(assessments(trace))}"
    )
    unrated = _trace("What is a scorer?")
    assert exercise.human_verdict(unrated) is None, (
        f"expected None for a trace nobody rated; found {shown(exercise.human_verdict(unrated))}"
    )


# --- agreement -----------------------------------------------------------------------------


def test_agreement_is_the_share_of_rated_traces_where_judge_and_humans_agree(
    exercise, models, rated_traces, rated
):
    traces = rated[1] + [mlflow.get_trace(rated_traces["unrated"])]  # the last one: unrated

    found = exercise.agreement(exercise.make_helpful_judge(JUDGE_MODEL), traces)

    assert found == pytest.approx(0.5), (
        "expected agreement 0.5: the judge says yes to all 4 rated traces and the reviewers "
        f"said yes to 2; found {shown(found)}"
    )
    assert len(models.chat_requests) == 4, (
        "expected the judge to be asked once per rated trace (4), never for the unrated one; "
        f"it was asked {len(models.chat_requests)} times"
    )
    logged = [a for t in traces for a in assessments(mlflow.get_trace(t.info.trace_id))]
    judged = [a for a in logged if a.source.source_type != "HUMAN"]
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert not judged and not runs, (
        "expected agreement to log nothing (call the judge directly, no evaluation); found "
        f"{len(runs)} run(s) and {describe_assessments(judged)}"
    )


def test_agreement_refuses_traces_that_nobody_rated(exercise, models, rated_traces):
    judge = exercise.make_helpful_judge(JUDGE_MODEL)

    with pytest.raises(ValueError):
        exercise.agreement(judge, [mlflow.get_trace(rated_traces["unrated"])])


# --- alignment -----------------------------------------------------------------------------


def test_the_alignment_run_logs_agreement_before_and_after_on_the_held_out_traces(
    exercise, models, rated
):
    outcome = _align(exercise, *rated)

    run = mlflow.get_run(outcome.run_id)
    expected = {"agreement_before": 0.5, "agreement_after": 1.0}
    found = {k: run.data.metrics.get(k) for k in expected}
    assert found == expected, f"expected the run's metrics {expected}; found {run.data.metrics}"
    params = {"optimizer": "MemAlign", "train_traces": "6"}
    found_params = {k: run.data.params.get(k) for k in params}
    assert (run.info.run_name, found_params) == ("judge-alignment", params), (
        f"expected the run 'judge-alignment' with the params {params}; found "
        f"{shown(run.info.run_name)} with {run.data.params}"
    )


def test_alignment_distills_a_guideline_with_the_given_reflection_model(exercise, models, rated):
    _align(exercise, *rated)

    distilling = [r for r in models.chat_requests if is_distillation_request(r)]
    assert [r.body.get("model") for r in distilling] == ["gpt-4o"], (
        "expected MemAlign to ask the reflection model 'openai:/gpt-4o' once to distill "
        f"guidelines; found distillation requests to {[r.body.get('model') for r in distilling]}"
    )
    embedded = {r.body.get("model") for r in models.requests if r.path == "/v1/embeddings"}
    assert embedded == {"text-embedding-3-small"}, (
        f"expected the embedding model text-embedding-3-small; found {embedded}"
    )
    missing = [a for a, _ in TRAIN.values() if a not in distilling[0].last_user_text]
    assert not missing, (
        "expected the distillation request to show every rated training answer; missing "
        f"{missing}. Align on train_traces (held-out traces must stay unseen)."
    )
    leaked = [a for a, _ in TEST.values() if a in distilling[0].last_user_text]
    assert not leaked, f"expected no held-out answer in the distillation request; found {leaked}"


def test_the_aligned_judge_is_registered_and_judges_by_what_the_humans_meant(
    exercise, models, rated
):
    outcome = _align(exercise, *rated)

    returned = getattr(outcome.aligned_judge, "instructions", None)
    assert GUIDELINE in str(returned), (
        f"expected the outcome's aligned_judge to carry the guideline {GUIDELINE!r}; its "
        f"instructions are {shown(returned)}"
    )
    registered = mlflow.genai.scorers.get_scorer(name="helpful_aligned")
    assert GUIDELINE in registered.instructions, (
        f"expected the registered judge 'helpful_aligned' to carry the guideline {GUIDELINE!r}; "
        f"its instructions are {shown(registered.instructions)}"
    )
    verdict = registered(trace=_trace("What is a span?")).value
    assert verdict == "no", (
        "expected the registered aligned judge to reject an answer without docs, as the "
        f"reviewers do; it said {shown(verdict)}"
    )
    text = mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/aligned_instructions.txt")
    assert GUIDELINE in text, (
        f"expected the artifact aligned_instructions.txt to hold the aligned instructions; "
        f"found {shown(text)}"
    )
