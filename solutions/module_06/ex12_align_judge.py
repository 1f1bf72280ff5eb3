"""Reference solution for module_06/ex12_align_judge: teach an LLM judge what your reviewers mean.

A judge written in one sentence ("is this answer helpful?") does not know your
team's taste. People do: they rate some production traces by hand. MLflow turns
those human ratings into a better judge with ``judge.align(traces, optimizer)``:
the default optimizer, ``MemAlignOptimizer``, asks a *reflection* model to
distill guidelines from the human feedback (semantic memory) and keeps the
rated examples to show the judge the most similar ones at each call (episodic
memory, found with an embedding model). You measure the judge's agreement with
the humans before and after, on traces it did not learn from, and register the
aligned judge so that everyone scores with it.

Models are MLflow model URIs (``"openai:/gpt-4o-mini"``); the judge calls go
through MLflow's own HTTP client, the reflection and embedding calls through
DSPy and litellm (``pip install dspy``). In the tests the kata's fake server
answers all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

# dspy 3.4.0 (which MemAlign uses) breaks litellm unless the real openai is imported first
import openai  # noqa: F401

# isort: split
import mlflow
from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback, Trace
from mlflow.genai.judges import make_judge
from mlflow.genai.judges.base import Judge
from mlflow.genai.judges.optimizers import MemAlignOptimizer

JUDGE_NAME = "helpful"
JUDGE_INSTRUCTIONS = (
    "Is {{ outputs }} a helpful answer to the question in {{ inputs }}? Answer yes or no."
)
ALIGNED_NAME = "helpful_aligned"
RUN_NAME = "judge-alignment"
INSTRUCTIONS_ARTIFACT = "aligned_instructions.txt"


@dataclass
class AlignmentOutcome:
    """What one alignment did."""

    run_id: str  # the MLflow run RUN_NAME
    agreement_before: float  # the judge's agreement with the humans on the held-out traces
    agreement_after: float  # the aligned judge's agreement on the same traces
    aligned_judge: Judge  # the registered aligned judge


def make_helpful_judge(model: str) -> Judge:
    """The judge to align: ``make_judge`` named ``JUDGE_NAME`` with
    ``JUDGE_INSTRUCTIONS``, asking ``model`` (a model URI), answering a string
    ("yes" or "no": ``feedback_value_type=str``)."""
    return make_judge(
        name=JUDGE_NAME, instructions=JUDGE_INSTRUCTIONS, model=model, feedback_value_type=str
    )


def log_human_verdict(
    trace_id: str, verdict: str, reviewer: str, rationale: str | None = None
) -> Feedback:
    """Record a person's yes/no on a trace, the way alignment reads it.

    A feedback named ``JUDGE_NAME`` (alignment pairs human feedback with the
    judge by name) whose value is ``verdict`` and whose source is ``HUMAN`` with
    ``reviewer`` as source id, with ``rationale``. Returns the logged feedback.
    """
    return mlflow.log_feedback(
        trace_id=trace_id,
        name=JUDGE_NAME,
        value=verdict,
        rationale=rationale,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=reviewer),
    )


def human_verdict(trace: Trace) -> str | None:
    """The humans' verdict on ``trace``: the value of its most recent (latest
    ``create_time_ms``) feedback named ``JUDGE_NAME`` whose source is ``HUMAN``,
    lower-cased; feedback from judges or code never counts. None when no person
    rated the trace. Read the trace afresh from the store (``trace`` may be older
    than its feedback)."""
    fresh = mlflow.get_trace(trace.info.trace_id)
    human = [
        a
        for a in fresh.info.assessments
        if a.name == JUDGE_NAME
        and a.source.source_type == AssessmentSourceType.HUMAN
        and a.feedback is not None
    ]
    if not human:
        return None
    latest = max(human, key=lambda a: a.create_time_ms or 0)
    return str(latest.feedback.value).strip().lower()


def agreement(judge: Judge, traces: list[Trace]) -> float:
    """The share of the rated traces on which ``judge`` gives the humans' verdict.

    Only traces with a ``human_verdict`` count (the others are not judged at
    all); call ``judge(trace=trace)`` once for each and compare its value with
    the human verdict. Nothing is logged (no run, no assessment). Raises
    ``ValueError`` when no trace was rated.
    """
    rated = [(t, v) for t in traces if (v := human_verdict(t)) is not None]
    if not rated:
        raise ValueError("agreement needs traces that a person rated")
    same = sum(str(judge(trace=t).value).strip().lower() == v for t, v in rated)
    return same / len(rated)


def align_with_humans(
    judge: Judge,
    train_traces: list[Trace],
    test_traces: list[Trace],
    reflection_model: str,
    embedding_model: str,
) -> AlignmentOutcome:
    """Align ``judge`` with the human feedback on ``train_traces`` and measure it on
    ``test_traces``, all in one MLflow run ``RUN_NAME``:

    1. log params ``optimizer`` = ``"MemAlign"`` and ``train_traces`` = how many;
    2. log the metric ``agreement_before``: ``agreement(judge, test_traces)``;
    3. align: ``judge.align(traces=train_traces, optimizer=MemAlignOptimizer(
       reflection_lm=reflection_model, embedding_model=embedding_model))``;
    4. log the metric ``agreement_after``: the aligned judge's agreement on
       ``test_traces``;
    5. log the aligned judge's ``instructions`` as the text artifact
       ``INSTRUCTIONS_ARTIFACT``;
    6. register the aligned judge in the active experiment as ``ALIGNED_NAME``
       (``.register(name=...)``); return it in the outcome.
    """
    with mlflow.start_run(run_name=RUN_NAME) as run:
        mlflow.log_params({"optimizer": "MemAlign", "train_traces": len(train_traces)})
        before = agreement(judge, test_traces)
        mlflow.log_metric("agreement_before", before)

        optimizer = MemAlignOptimizer(
            reflection_lm=reflection_model, embedding_model=embedding_model
        )
        aligned = judge.align(traces=train_traces, optimizer=optimizer)

        after = agreement(aligned, test_traces)
        mlflow.log_metric("agreement_after", after)
        mlflow.log_text(aligned.instructions, INSTRUCTIONS_ARTIFACT)
        registered = aligned.register(name=ALIGNED_NAME)
    return AlignmentOutcome(
        run_id=run.info.run_id,
        agreement_before=before,
        agreement_after=after,
        aligned_judge=registered,
    )
