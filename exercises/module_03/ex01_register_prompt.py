"""Exercise 1: register your first prompt.

A prompt written inline in your code changes without a trace: nobody knows
which wording produced last week's answers. The MLflow prompt registry keeps
every prompt as numbered, immutable versions, each with a commit message and
tags, like commits in git, and your code loads the exact version it needs.

Build:

1. ``register_sentiment_prompt(owner, commit_message)``: write a prompt that
   asks an LLM to label a product review as ``positive``, ``negative`` or
   ``neutral``, and register it as ``sentiment`` with a commit message and the
   tags ``task`` and ``owner``.
2. ``fill_prompt(text, version)``: load one exact version from the registry and
   fill the review into it.

MLflow APIs practised: ``mlflow.genai.register_prompt``,
``mlflow.genai.load_prompt`` with a ``prompts:/<name>/<version>`` URI,
``PromptVersion.format``.

Done looks like this: the MLflow UI's **Prompts** page lists ``sentiment``;
version 1 shows your template with its variable ``text``, your commit message
and the tags; registering again makes version 2 and leaves version 1 as it was.

Run the checks: ``uv run pytest exercises/module_03/test_ex01_register_prompt.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need it
from mlflow.entities.model_registry import PromptVersion

PROMPT_NAME = "sentiment"
TASK = "sentiment-analysis"


def register_sentiment_prompt(
    owner: str, commit_message: str, name: str = PROMPT_NAME
) -> PromptVersion:
    """Register a sentiment-analysis prompt and return the version MLflow created.

    The template (you write it) asks the model to label one product review as
    exactly one of ``positive``, ``negative`` or ``neutral``, and names each of
    the three labels. It has one variable, ``text`` (the review), written the
    MLflow way: ``{{text}}``.

    Register it under ``name`` with ``commit_message``, and tag the version
    with ``task`` = ``TASK`` and ``owner`` = ``owner``. The first registration
    of a name creates version 1; every later one creates the next version.
    """
    # TODO: write the template (one variable, {{text}}), then register it with
    #       mlflow.genai.register_prompt(name=..., template=..., commit_message=..., tags=...)
    #       and return what it returns.
    raise NotImplementedError("register_sentiment_prompt: not written yet (see the TODO above)")


def fill_prompt(text: str, version: int, name: str = PROMPT_NAME) -> str:
    """Load version ``version`` of the prompt ``name`` from the registry, fill its
    ``text`` variable with ``text``, and return the finished prompt.

    Load exactly the version asked for, whatever newer versions exist.
    """
    # TODO: load the version with mlflow.genai.load_prompt and a prompts:/ URI,
    #       then fill it in with its format() method.
    raise NotImplementedError("fill_prompt: not written yet (see the TODO above)")
