"""Reference solution for module_08/ex04_prompt_optimization: optimize, register, promote."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import openai
from mlflow.genai.optimize.optimizers import MetaPromptOptimizer
from mlflow.genai.scorers import scorer

PRODUCTION_ALIAS = "production"
REFLECTION_MODEL = "openai:/gpt-4o-mini"
LLM_MODEL = "gpt-4o-mini"
SCORE_TAG = "eval_score"


@dataclass
class OptimizationOutcome:
    """What one optimization round did."""

    new_version: int  # the version optimize_prompts registered
    initial_score: float  # the production prompt's score on the training data
    final_score: float  # the new version's score on the same data
    promoted: bool  # whether the production alias moved to the new version


def classify(review: str, prompt_name: str) -> str:
    """Label one review with the ``production`` version of the prompt ``prompt_name``.

    Load ``prompts:/<prompt_name>@production``, fill its ``{{review}}`` variable
    with ``format``, send the text to the chat model ``LLM_MODEL`` as the user
    message, and return its reply stripped and lower-cased. The chat model is
    the OpenAI client, configured the usual way (``OPENAI_BASE_URL``).
    """
    # cache_ttl_seconds=0: another process may have moved the alias a moment ago (a move
    # made in this process clears load_prompt's 60-second cache by itself).
    prompt = mlflow.genai.load_prompt(
        f"prompts:/{prompt_name}@{PRODUCTION_ALIAS}", cache_ttl_seconds=0
    )
    reply = openai.OpenAI().chat.completions.create(
        model=LLM_MODEL,
        messages=[{"role": "user", "content": prompt.format(review=review)}],
        temperature=0,
    )
    return (reply.choices[0].message.content or "").strip().lower()


@scorer
def exact_match(outputs: str, expectations: dict) -> bool:
    """True when the output equals ``expectations["expected_response"]``, ignoring
    case and surrounding whitespace."""
    expected = str(expectations.get("expected_response", ""))
    return str(outputs).strip().lower() == expected.strip().lower()


def optimize_prompt(
    prompt_name: str, train_data: list[dict], reflection_model: str = REFLECTION_MODEL
) -> OptimizationOutcome:
    """Improve the production prompt ``prompt_name`` with ``mlflow.genai.optimize_prompts``.

    - ``train_data``: records ``{"inputs": {"review": ...}, "expectations":
      {"expected_response": <label>}}``;
    - the optimizer: ``MetaPromptOptimizer`` with ``reflection_model`` (a model
      URI such as ``"openai:/gpt-4o-mini"``);
    - the app under optimization: ``classify``; the scorer: ``exact_match``.

    ``optimize_prompts`` registers the improved template as a new version. Tag
    that version with ``SCORE_TAG`` = its final score (as a string), and move the
    ``production`` alias to it only if its final score is strictly higher than
    the initial one; otherwise production stays where it was.
    """
    production = mlflow.genai.load_prompt(
        f"prompts:/{prompt_name}@{PRODUCTION_ALIAS}", cache_ttl_seconds=0
    )
    result = mlflow.genai.optimize_prompts(
        predict_fn=lambda review: classify(review, prompt_name),
        train_data=train_data,
        prompt_uris=[production.uri],
        optimizer=MetaPromptOptimizer(reflection_model=reflection_model),
        scorers=[exact_match],
    )
    new = result.optimized_prompts[0]
    initial = float(result.initial_eval_score or 0.0)
    final = float(result.final_eval_score or 0.0)
    mlflow.genai.set_prompt_version_tag(prompt_name, new.version, SCORE_TAG, str(final))

    # Promote only a real improvement: an equal score is no reason to change production.
    promoted = final > initial
    if promoted:
        mlflow.genai.set_prompt_alias(prompt_name, PRODUCTION_ALIAS, new.version)
    return OptimizationOutcome(
        new_version=int(new.version),
        initial_score=initial,
        final_score=final,
        promoted=promoted,
    )
