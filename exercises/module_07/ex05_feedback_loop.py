"""Exercise 5: the feedback loop, thumbs from users, reported per version and per prompt.

Offline evaluation (exercise 2) tells you how a version does on questions you chose.
Users tell you how it does on theirs. Collect their thumbs up and down on the trace
of the answer they rated, as MLflow *feedback* (an assessment with a HUMAN source),
and you can read them back by model version and by prompt version: the next
prompt to rewrite is the one with the most thumbs down.

Build:

1. ``create_app()``: ``POST /feedback`` logs a user's thumb with ``mlflow.log_feedback``;
   an unknown trace id is a 404.
2. ``feedback_by_version(model_name)``: thumbs per registered version, found through the
   traces linked to each version's LoggedModel.
3. ``worst_prompt_versions(limit)``: prompt versions ranked by their share of thumbs down,
   found through the prompts linked to each rated trace.

MLflow APIs practised: ``mlflow.log_feedback(trace_id=, name=, value=, rationale=,
source=AssessmentSource(source_type="HUMAN", source_id=...))``, ``mlflow.get_trace``,
``mlflow.search_traces(locations=, model_id=)`` (each trace comes with its
``info.assessments``), ``MlflowClient().search_model_versions``, the trace tag
``mlflow.linkedPrompts``.

The service of exercise 3 returns a ``trace_id`` with each answer: that is what a
client sends back here. (In production, mount this route in that app, behind the
same API key.)

Done looks like this: in the UI, a rated trace shows the user's thumb and comment in
its assessments; your two reports agree with what you see there.

Run the checks: ``uv run pytest exercises/module_07/test_ex05_feedback_loop.py``
"""

from __future__ import annotations

import json  # noqa: F401 - you will need these
from collections import defaultdict  # noqa: F401
from dataclasses import dataclass

import mlflow  # noqa: F401
from fastapi import FastAPI
from fastapi.responses import JSONResponse  # noqa: F401
from mlflow import MlflowClient  # noqa: F401
from mlflow.entities import AssessmentSource, AssessmentSourceType, Trace  # noqa: F401
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
    # TODO: FastAPI(); a POST /feedback route with status_code=201. mlflow.get_trace(id)
    #       returns None for an unknown trace; answer that with JSONResponse(..., 404).
    raise NotImplementedError("create_app: not written yet (see the TODO above)")


def feedback_by_version(model_name: str) -> dict[str, FeedbackSummary]:
    """User thumbs per version of the registered model ``model_name``.

    A version's traces are those linked to its LoggedModel (a version's ``source`` is
    ``models:/<model_id>``; ``mlflow.search_traces(model_id=...)``), in any experiment.
    Count only HUMAN feedback named ``FEEDBACK_NAME``: judges and code scorers are not
    users. Every version appears, with zeros when it has no feedback.

    Returns:
        ``{"1": FeedbackSummary(...), "2": ...}``, keyed by version.
    """
    # TODO: for each version: its model id, its traces (search every experiment:
    #       MlflowClient().search_experiments()), the user thumbs in trace.info.assessments
    #       (name, feedback, source.source_type == "HUMAN"), and a FeedbackSummary.
    raise NotImplementedError("feedback_by_version: not written yet (see the TODO above)")


def worst_prompt_versions(limit: int = 3) -> list[tuple[str, float]]:
    """The prompt versions whose traces got the largest share of thumbs down.

    A trace's prompt versions are in its ``mlflow.linkedPrompts`` tag (MLflow links a
    prompt to the trace that loaded it). Only prompt versions with at least one user
    thumb count.

    Returns:
        Up to ``limit`` pairs ``("name/version", negative_rate)``, worst first (ties by
        name).
    """
    # TODO: go through every trace with user thumbs, add its thumbs to each prompt version
    #       in json.loads(trace.info.tags.get(LINKED_PROMPTS_TAG, "[]")), then rank.
    raise NotImplementedError("worst_prompt_versions: not written yet (see the TODO above)")
