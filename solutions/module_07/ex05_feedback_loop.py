"""Reference solution for module_07/ex05_feedback_loop: user thumbs per version and prompt."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import mlflow
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource, AssessmentSourceType, Trace
from pydantic import BaseModel

FEEDBACK_NAME = "user_thumbs_up"
ANONYMOUS = "anonymous"
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"  # a trace tag: JSON list of {"name", "version"}


class FeedbackRequest(BaseModel):
    """The body of ``POST /feedback``."""

    trace_id: str
    thumbs_up: bool
    comment: str | None = None
    user: str | None = None


@dataclass
class FeedbackSummary:
    """User thumbs for one model version or one prompt version."""

    thumbs_up: int = 0
    thumbs_down: int = 0
    negative_rate: float = 0.0  # thumbs_down / (thumbs_up + thumbs_down); 0.0 with no feedback


def create_app() -> FastAPI:
    """A FastAPI app with ``POST /feedback`` (a ``FeedbackRequest`` body).

    Log the thumb on the trace with ``mlflow.log_feedback``: name ``FEEDBACK_NAME``,
    value ``thumbs_up`` (a bool), the comment as its rationale, and a HUMAN source whose
    id is the user (``ANONYMOUS`` when none is given). Answer 201 with
    ``{"assessment_id": ...}``. A trace id that the store does not know is a 404 with a
    JSON ``{"error": ...}``, and nothing is logged.
    """
    app = FastAPI(title="feedback")

    @app.post("/feedback", status_code=201)
    def feedback(body: FeedbackRequest):
        if mlflow.get_trace(body.trace_id) is None:  # None (and a warning) when unknown
            return JSONResponse({"error": f"unknown trace {body.trace_id}"}, status_code=404)
        assessment = mlflow.log_feedback(
            trace_id=body.trace_id,
            name=FEEDBACK_NAME,
            value=body.thumbs_up,
            rationale=body.comment,
            source=AssessmentSource(
                source_type=AssessmentSourceType.HUMAN, source_id=body.user or ANONYMOUS
            ),
        )
        return {"assessment_id": assessment.assessment_id}

    return app


def _user_thumbs(trace: Trace) -> list[bool]:
    """The values of the valid HUMAN feedback named FEEDBACK_NAME on a trace."""
    thumbs = []
    for item in trace.info.assessments or []:
        source = item.source.source_type if item.source else None
        if (
            item.name == FEEDBACK_NAME
            and item.feedback is not None
            and str(source) == AssessmentSourceType.HUMAN
            and item.valid is not False  # an overridden assessment no longer counts
        ):
            thumbs.append(bool(item.feedback.value))
    return thumbs


def _all_traces(**kwargs) -> list[Trace]:
    experiments = [e.experiment_id for e in MlflowClient().search_experiments()]
    return mlflow.search_traces(locations=experiments, return_type="list", **kwargs)


def _summary(thumbs: list[bool]) -> FeedbackSummary:
    up = sum(thumbs)
    down = len(thumbs) - up
    return FeedbackSummary(up, down, down / len(thumbs) if thumbs else 0.0)


def feedback_by_version(model_name: str) -> dict[str, FeedbackSummary]:
    """User thumbs per version of the registered model ``model_name``.

    A version's traces are those linked to its LoggedModel (a version's ``source`` is
    ``models:/<model_id>``; ``mlflow.search_traces(model_id=...)``), in any experiment.
    Count only HUMAN feedback named ``FEEDBACK_NAME``: judges and code scorers are not
    users. Every version appears, with zeros when it has no feedback.

    Returns:
        ``{"1": FeedbackSummary(...), "2": ...}``, keyed by version.
    """
    report = {}
    for version in MlflowClient().search_model_versions(f"name = '{model_name}'"):
        model_id = version.source.removeprefix("models:/")
        thumbs = [t for trace in _all_traces(model_id=model_id) for t in _user_thumbs(trace)]
        report[str(version.version)] = _summary(thumbs)
    return report


def worst_prompt_versions(limit: int = 3) -> list[tuple[str, float]]:
    """The prompt versions whose traces got the largest share of thumbs down.

    A trace's prompt versions are in its ``mlflow.linkedPrompts`` tag (MLflow links a
    prompt to the trace that loaded it). Only prompt versions with at least one user
    thumb count.

    Returns:
        Up to ``limit`` pairs ``("name/version", negative_rate)``, worst first (ties by
        name).
    """
    thumbs_by_prompt: dict[str, list[bool]] = defaultdict(list)
    for trace in _all_traces():
        thumbs = _user_thumbs(trace)
        if not thumbs:
            continue
        for prompt in json.loads(trace.info.tags.get(LINKED_PROMPTS_TAG, "[]")):
            thumbs_by_prompt[f"{prompt['name']}/{prompt['version']}"].extend(thumbs)
    rates = [(name, _summary(thumbs).negative_rate) for name, thumbs in thumbs_by_prompt.items()]
    return sorted(rates, key=lambda pair: (-pair[1], pair[0]))[:limit]
