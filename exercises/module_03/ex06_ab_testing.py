"""Exercise 6: A/B testing two prompt versions in production.

Offline evaluation says which prompt *should* be better; real users say which
one is. In an A/B test a router sends each user to version A or version B,
every trace records which version answered, and the traces, with the users'
feedback on them, tell the two versions apart.

Two rules make the numbers trustworthy. A user must always see the same
version (otherwise their feedback mixes both), in every process: Python's
``hash()`` of a string changes from one process to the next, so a split must
use a stable digest such as ``hashlib.sha256``. And the version must be on the
trace *before* anything can fail, or errors count for no version.

Build:

1. ``choose_version(user_id, version_a, version_b, share_b)``: a stable split.
2. ``handle_request(user_id, review, ...)``: one trace per request, tagged with
   the version and the user, that asks the model with that version's prompt.
3. ``record_feedback(trace_id, user_id, thumbs_up)``: the user's verdict, as
   feedback on the trace.
4. ``version_stats(experiment_id)``: requests, error rate, mean latency and
   thumbs-up rate per version, computed from the traces in the store.

The model is reached with the OpenAI client, which reads ``OPENAI_BASE_URL``
and ``OPENAI_API_KEY``: the tests point them at a fake server, your shell can
point them at OpenAI or any compatible server.

MLflow APIs practised: ``@mlflow.trace``, ``mlflow.update_current_trace(tags=,
user=)``, ``mlflow.genai.load_prompt``, ``mlflow.log_feedback`` with an
``AssessmentSource``, ``mlflow.search_traces`` (trace state, execution
duration, tags, assessments).

Done looks like this: in the UI's **Traces** tab, a ``prompt_version`` column
splits the requests, each trace names its user, and the thumbs up and down
show as feedback.

Run the checks: ``uv run pytest exercises/module_03/test_ex06_ab_testing.py``
"""

from __future__ import annotations

import hashlib  # noqa: F401 - you will need these
from dataclasses import dataclass

import mlflow  # noqa: F401
import openai  # noqa: F401
from mlflow.entities import AssessmentSource, AssessmentSourceType  # noqa: F401

PROMPT_NAME = "sentiment"
MODEL = "gpt-4o-mini"
VERSION_TAG = "prompt_version"
FEEDBACK_NAME = "thumbs_up"


@dataclass
class VersionStats:
    """What the traces say about one prompt version."""

    requests: int  # traces tagged with the version
    error_rate: float  # share of those traces whose state is ERROR
    mean_latency_ms: float  # mean execution time of those traces, errors included
    thumbs_up_rate: float | None  # share of thumbs up among the traces that got feedback


def choose_version(user_id: str, version_a: int, version_b: int, share_b: float = 0.5) -> int:
    """The prompt version that ``user_id`` gets: ``version_b`` for about ``share_b`` of
    the users (0.0 = nobody, 1.0 = everybody), ``version_a`` for the others.

    The choice depends on the user id alone: the same user gets the same version
    on every call, in every process, on every machine.
    """
    # TODO: turn the user id into a number in [0, 1) that is the same everywhere
    #       (a hashlib digest, not hash()), and compare it with share_b.
    raise NotImplementedError("choose_version: not written yet (see the TODO above)")


def handle_request(
    user_id: str, review: str, version_a: int = 1, version_b: int = 2, share_b: float = 0.5
) -> str:
    """Answer one request as one trace, with the prompt version the split gives the user.

    In the trace: choose the version, record it as the trace tag ``VERSION_TAG``
    (e.g. ``"2"``) and the user with ``mlflow.update_current_trace(user=...)``,
    *before* calling the model (a failed request still counts for its version);
    load ``prompts:/sentiment/<version>``; fill in ``text=review``; ask ``MODEL``
    through the OpenAI chat completions API (``openai.OpenAI()``, created here,
    reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``); return the answer stripped
    and lower-cased. An error of the model call propagates.
    """
    # TODO: trace this function; choose the version; tag the trace and name the user;
    #       load and fill in the prompt; send it as one user message; return the answer.
    raise NotImplementedError("handle_request: not written yet (see the TODO above)")


def record_feedback(trace_id: str, user_id: str, thumbs_up: bool) -> None:
    """Log the user's thumbs up (True) or down (False) on the trace of their request:
    a feedback named ``FEEDBACK_NAME`` from a ``HUMAN`` source whose id is ``user_id``."""
    # TODO: mlflow.log_feedback(trace_id=..., name=..., value=..., source=AssessmentSource(...))
    raise NotImplementedError("record_feedback: not written yet (see the TODO above)")


def version_stats(experiment_id: str | None = None) -> dict[int, VersionStats]:
    """Per prompt version, the stats of the traces tagged ``VERSION_TAG``, read from the
    store: ``{1: VersionStats(...), 2: VersionStats(...)}``.

    Look at the traces of ``experiment_id`` (the active experiment when None);
    ignore traces without the tag. ``thumbs_up_rate`` counts only traces with a
    ``FEEDBACK_NAME`` feedback, and is None when none of them has one.
    """
    # TODO: search the experiment's traces (return_type="list"), group them by the tag,
    #       and compute each VersionStats from trace.info: state, execution_duration,
    #       assessments.
    raise NotImplementedError("version_stats: not written yet (see the TODO above)")
