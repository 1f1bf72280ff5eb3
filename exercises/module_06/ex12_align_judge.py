"""Exercise 12: align a judge with your reviewers, and measure the agreement.

A judge written in one sentence ("is this answer helpful?") does not know your
team's taste; your reviewers do. They rate some traces by hand (thumbs up or
down, as in module 7's feedback loop), and MLflow turns those ratings into a
better judge with ``judge.align(traces, optimizer)``. Its default optimizer,
``MemAlignOptimizer``, runs on DSPy: a *reflection* model distills guidelines
from the human feedback, and an embedding model finds the rated examples most
like the trace being judged, to show them to the judge at each call. You
measure how often the judge agrees with the humans before and after, on traces
it did not learn from, and register the aligned judge so everyone scores with it.

The tests pass model URIs whose requests reach fake models on 127.0.0.1: a
lenient judge that obeys rules written in its instructions, and a reflection
model that finds the word telling approved answers from rejected ones. With
your own key the same code asks OpenAI.

Build:

1. ``make_helpful_judge(model)``: the judge to align.
2. ``log_human_verdict(...)`` and ``human_verdict(trace)``: people's ratings as
   alignment reads them.
3. ``agreement(judge, traces)``: the share of rated traces where judge and
   people agree.
4. ``align_with_humans(...)``: before, align, after, register, in one run.

MLflow APIs practised: ``mlflow.genai.judges.make_judge``, ``mlflow.log_feedback``
with a HUMAN ``AssessmentSource``, ``Judge.align`` with ``MemAlignOptimizer``,
``Judge.register`` and ``mlflow.genai.scorers.get_scorer``.

Done looks like this: the run ``judge-alignment`` shows ``agreement_before``
0.5 and ``agreement_after`` 1.0, its artifact holds the aligned instructions with
the distilled guideline, and ``get_scorer(name="helpful_aligned")`` gives the
aligned judge back.

Run the checks: ``uv run pytest exercises/module_06/test_ex12_align_judge.py``
"""

from __future__ import annotations

from dataclasses import dataclass

# dspy 3.4.0 (which MemAlign uses) breaks litellm unless the real openai is imported first
import openai  # noqa: F401

# isort: split
import mlflow  # noqa: F401 - you will need these
from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback, Trace
from mlflow.genai.judges import make_judge  # noqa: F401 - you will need these
from mlflow.genai.judges.base import Judge
from mlflow.genai.judges.optimizers import MemAlignOptimizer  # noqa: F401

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
    # TODO: make_judge with JUDGE_NAME, JUDGE_INSTRUCTIONS, the model, and a str verdict
    raise NotImplementedError("make_helpful_judge: not written yet (see the TODO above)")


def log_human_verdict(
    trace_id: str, verdict: str, reviewer: str, rationale: str | None = None
) -> Feedback:
    """Record a person's yes/no on a trace, the way alignment reads it.

    A feedback named ``JUDGE_NAME`` (alignment pairs human feedback with the
    judge by name) whose value is ``verdict`` and whose source is ``HUMAN`` with
    ``reviewer`` as source id, with ``rationale``. Returns the logged feedback.
    """
    # TODO: mlflow.log_feedback named JUDGE_NAME, with a HUMAN AssessmentSource
    #       whose source_id is the reviewer
    raise NotImplementedError("log_human_verdict: not written yet (see the TODO above)")


def human_verdict(trace: Trace) -> str | None:
    """The humans' verdict on ``trace``: the value of its most recent (latest
    ``create_time_ms``) feedback named ``JUDGE_NAME`` whose source is ``HUMAN``,
    lower-cased; feedback from judges or code never counts. None when no person
    rated the trace. Read the trace afresh from the store (``trace`` may be older
    than its feedback)."""
    # TODO: read the trace afresh; keep the HUMAN feedback named JUDGE_NAME
    # TODO: return the latest one's value, lower-cased, or None
    raise NotImplementedError("human_verdict: not written yet (see the TODO above)")


def agreement(judge: Judge, traces: list[Trace]) -> float:
    """The share of the rated traces on which ``judge`` gives the humans' verdict.

    Only traces with a ``human_verdict`` count (the others are not judged at
    all); call ``judge(trace=trace)`` once for each and compare its value with
    the human verdict. Nothing is logged (no run, no assessment). Raises
    ``ValueError`` when no trace was rated.
    """
    # TODO: judge only the traces with a human verdict
    # TODO: return the share where judge(trace=...).value matches it
    # TODO: raise ValueError when no trace was rated
    raise NotImplementedError("agreement: not written yet (see the TODO above)")


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
    # TODO: in one run RUN_NAME: the params, agreement_before on test_traces
    # TODO: align on train_traces with a MemAlignOptimizer of the two models
    # TODO: agreement_after, the instructions as INSTRUCTIONS_ARTIFACT, register as ALIGNED_NAME
    raise NotImplementedError("align_with_humans: not written yet (see the TODO above)")
