"""Exercise 7: compare prompt versions by evaluation, and promote the winner.

"Version 2 reads better" is an opinion; "version 2 labels 100% of the test
reviews right and version 1 67%" is a release decision. Here you evaluate
each prompt version on the same labelled reviews with
``mlflow.genai.evaluate`` and a code scorer, keep every evaluation as a run
linked to the version it measured, and move ``production`` to the winner.

The LLM is reached with the OpenAI client (``OPENAI_BASE_URL``,
``OPENAI_API_KEY``). In the tests a fake model answers, and its accuracy
depends on the prompt's wording: it only answers with the labels that the
prompt names (``fixtures/prompt_quality.py``). A prompt that never mentions
``neutral`` gets every neutral review wrong.

Build:

1. ``correct_label``: a scorer (``@scorer``) that compares the answer with
   the expected label.
2. ``to_eval_data(reviews)``: the reviews as evaluation rows.
3. ``evaluate_version(version, reviews)``: one evaluation run of one version.
4. ``compare_and_promote(reviews, versions)``: evaluate every version inside a
   comparison run, log the comparison, move ``production`` to the winner.

MLflow APIs practised: ``mlflow.genai.evaluate(data=, predict_fn=,
scorers=)``, ``@scorer``, ``mlflow.start_run(nested=True)``,
``mlflow.genai.load_prompt`` (links the evaluation run to the version),
``mlflow.log_metrics``, ``mlflow.genai.set_prompt_alias``.

Done looks like this: in the MLflow UI the comparison run has one child run
per version, each with ``correct_label/mean``, its traces and its prompt;
``production`` points at the best version.

Run the checks: ``uv run pytest exercises/module_03/test_ex07_compare_versions.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow  # noqa: F401 - you will need these
import openai  # noqa: F401
from mlflow.genai.scorers import scorer  # noqa: F401

PROMPT_NAME = "sentiment"
PRODUCTION = "production"
MODEL = "gpt-4o-mini"
METRIC = "correct_label/mean"


@dataclass
class Comparison:
    """The outcome of compare_and_promote."""

    accuracy: dict[int, float]  # version -> its correct_label/mean
    winner: int  # the version production points at afterwards
    run_id: str  # the comparison run


def correct_label(outputs: str, expectations: dict) -> bool:
    """True when the model's answer, stripped and lower-cased, is the expected label
    ``expectations["label"]``."""
    # TODO: make this function a scorer (decorate it with @scorer) and compare.
    raise NotImplementedError("correct_label: not written yet (see the TODO above)")


def to_eval_data(reviews: list[dict[str, str]]) -> list[dict]:
    """The reviews (``{"text", "label"}``) as evaluation rows:
    ``{"inputs": {"text": ...}, "expectations": {"label": ...}}``."""
    # TODO: one row per review.
    raise NotImplementedError("to_eval_data: not written yet (see the TODO above)")


def evaluate_version(
    version: int, reviews: list[dict[str, str]], name: str = PROMPT_NAME
) -> tuple[str, float]:
    """Evaluate one prompt version on ``reviews`` in an evaluation run of its own.

    ``mlflow.genai.evaluate`` runs a ``predict_fn(text)`` on every row: it loads
    ``prompts:/<name>/<version>`` (so the run and the traces are linked to that
    version), fills in ``text``, asks ``MODEL`` through ``openai.OpenAI()`` (one
    user message) and returns the answer. The scorer is ``correct_label``.

    Returns:
        ``(run_id, accuracy)``: the evaluation run and its ``METRIC``.
    """
    # TODO: write predict_fn(text); start a run (nested=True, so that it can sit under
    #       a comparison run); call mlflow.genai.evaluate in it; return the run id and
    #       result.metrics[METRIC].
    raise NotImplementedError("evaluate_version: not written yet (see the TODO above)")


def compare_and_promote(
    reviews: list[dict[str, str]], versions: list[int], name: str = PROMPT_NAME
) -> Comparison:
    """Evaluate each version, point ``PRODUCTION`` at the best one, log the comparison.

    Inside one comparison run, evaluate every version with ``evaluate_version``
    (one evaluation run each, nested under it), then log on the comparison run
    the metric ``accuracy_v<version>`` for each version and the tag
    ``winner_version``. The winner is the most accurate version; on a tie the
    earliest of them in ``versions`` wins. Move ``PRODUCTION`` to it.
    """
    # TODO: start the comparison run; evaluate each version; pick the winner; log the
    #       metrics and the tag; move the alias; return a Comparison.
    raise NotImplementedError("compare_and_promote: not written yet (see the TODO above)")
