"""Reference solution for module_03/ex06_ab_testing: two prompt versions in production."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import mlflow
import openai
from mlflow.entities import AssessmentSource, AssessmentSourceType

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
    # Python's hash() of a str changes from one process to the next (hash
    # randomisation), so a split built on it moves users around on every restart.
    # A cryptographic digest is the same everywhere.
    digest = hashlib.sha256(user_id.encode("utf-8")).hexdigest()
    bucket = int(digest[:8], 16) / 16**8  # a number in [0, 1), uniform over users
    return version_b if bucket < share_b else version_a


@mlflow.trace(span_type="CHAIN")
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
    version = choose_version(user_id, version_a, version_b, share_b)
    mlflow.update_current_trace(tags={VERSION_TAG: str(version)}, user=user_id)
    prompt = mlflow.genai.load_prompt(f"prompts:/{PROMPT_NAME}/{version}")
    reply = openai.OpenAI().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": prompt.format(text=review)}]
    )
    return (reply.choices[0].message.content or "").strip().lower()


def record_feedback(trace_id: str, user_id: str, thumbs_up: bool) -> None:
    """Log the user's thumbs up (True) or down (False) on the trace of their request:
    a feedback named ``FEEDBACK_NAME`` from a ``HUMAN`` source whose id is ``user_id``."""
    mlflow.log_feedback(
        trace_id=trace_id,
        name=FEEDBACK_NAME,
        value=thumbs_up,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=user_id),
    )


def version_stats(experiment_id: str | None = None) -> dict[int, VersionStats]:
    """Per prompt version, the stats of the traces tagged ``VERSION_TAG``, read from the
    store: ``{1: VersionStats(...), 2: VersionStats(...)}``.

    Look at the traces of ``experiment_id`` (the active experiment when None);
    ignore traces without the tag. ``thumbs_up_rate`` counts only traces with a
    ``FEEDBACK_NAME`` feedback, and is None when none of them has one.
    """
    locations = [experiment_id] if experiment_id else None
    traces = mlflow.search_traces(locations=locations, include_spans=False, return_type="list")

    grouped: dict[int, list] = {}
    for trace in traces:
        version = trace.info.tags.get(VERSION_TAG)
        if version is not None:
            grouped.setdefault(int(version), []).append(trace.info)

    stats = {}
    for version, infos in sorted(grouped.items()):
        votes = [
            a.feedback.value
            for info in infos
            for a in info.assessments
            if a.name == FEEDBACK_NAME and a.feedback is not None
        ]
        stats[version] = VersionStats(
            requests=len(infos),
            error_rate=sum(info.state == "ERROR" for info in infos) / len(infos),
            mean_latency_ms=sum(info.execution_duration or 0 for info in infos) / len(infos),
            thumbs_up_rate=sum(bool(v) for v in votes) / len(votes) if votes else None,
        )
    return stats
