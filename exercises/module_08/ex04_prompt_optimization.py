"""Exercise 4: automatic prompt optimization, with a guarded promotion.

Hand-tuning a prompt is slow guesswork. ``mlflow.genai.optimize_prompts``
runs your app on training examples, scores the outputs, shows the results to
a *reflection model* that rewrites the prompt, scores the rewrite, and
registers it as a new version of the prompt. Whether that version goes to
production is still your call: promote it only if it scored better.

Build:

1. ``classify(review, prompt_name)``: the app being optimized. It must load
   the prompt from the registry and call ``format`` on it: that is how the
   optimizer swaps in candidate templates while it evaluates.
2. ``exact_match``: the scorer (``@scorer``) that decides what "better" means.
3. ``optimize_prompt(prompt_name, train_data, reflection_model)``: run
   ``optimize_prompts`` with the ``MetaPromptOptimizer``, tag the new version
   with its score, and move the ``production`` alias only on a strict
   improvement.

MLflow APIs practised: ``mlflow.genai.load_prompt`` (``@alias`` URIs,
``cache_ttl_seconds``), ``PromptVersion.format``, ``mlflow.genai.scorers.scorer``,
``mlflow.genai.optimize_prompts``, ``MetaPromptOptimizer(reflection_model=...)``
and its ``PromptOptimizationResult`` (``optimized_prompts``,
``initial_eval_score``, ``final_eval_score``),
``mlflow.genai.set_prompt_version_tag``, ``mlflow.genai.set_prompt_alias``.

The app's chat model and the reflection model (``"openai:/<model>"``) are
reached the usual way (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``); the tests point
them at a fake server whose sentiment model only gives the labels a prompt
names. The same code switches to the GEPA optimizer where ``gepa`` and
``litellm`` are installed (see the lesson).

Done looks like this: on the prompt's page in the UI, version 2 with its
``eval_score`` tag, and ``production`` on it only when it scored better; the
optimization run shows ``initial_eval_score`` and ``final_eval_score``.

Run the checks: ``uv run pytest exercises/module_08/test_ex04_prompt_optimization.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow  # noqa: F401 - you will need these
import openai  # noqa: F401
from mlflow.genai.optimize.optimizers import MetaPromptOptimizer  # noqa: F401
from mlflow.genai.scorers import scorer  # noqa: F401

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
    # TODO: load prompts:/<prompt_name>@production (cache_ttl_seconds=0), format it with the
    #       review, send it as the user message to LLM_MODEL, return the reply stripped and lower-
    #       cased.
    raise NotImplementedError("classify: not written yet (see the TODO above)")


def exact_match(outputs: str, expectations: dict) -> bool:
    """True when the output equals ``expectations["expected_response"]``, ignoring
    case and surrounding whitespace."""
    # TODO: decorate this function with @scorer; compare outputs with
    #       expectations["expected_response"], both stripped and lower-cased.
    raise NotImplementedError("exact_match: not written yet (see the TODO above)")


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
    # TODO: load the production version, call mlflow.genai.optimize_prompts (predict_fn that calls
    #       classify, train_data, prompt_uris=[its uri], MetaPromptOptimizer(reflection_model=...),
    #       scorers=[exact_match]); tag the new version with SCORE_TAG; promote only if final >
    #       initial.
    raise NotImplementedError("optimize_prompt: not written yet (see the TODO above)")
