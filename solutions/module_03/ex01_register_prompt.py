"""Reference solution for module_03/ex01_register_prompt: a first prompt in the registry."""

from __future__ import annotations

import mlflow
from mlflow.entities.model_registry import PromptVersion

PROMPT_NAME = "sentiment"
TASK = "sentiment-analysis"

# MLflow templates mark variables with double braces: {{text}}. A single-brace
# "{text}" (LangChain's and str.format's syntax) is plain text to MLflow: the
# prompt would have no variables and the review would never be filled in.
_TEMPLATE = (
    "You label the sentiment of product reviews.\n"
    "Answer with exactly one word: positive, negative or neutral.\n"
    "Review: {{text}}"
)


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
    return mlflow.genai.register_prompt(
        name=name,
        template=_TEMPLATE,
        commit_message=commit_message,
        tags={"task": TASK, "owner": owner},
    )


def fill_prompt(text: str, version: int, name: str = PROMPT_NAME) -> str:
    """Load version ``version`` of the prompt ``name`` from the registry, fill its
    ``text`` variable with ``text``, and return the finished prompt.

    Load exactly the version asked for, whatever newer versions exist.
    """
    # A URI names one exact, immutable version: prompts:/<name>/<version>.
    prompt = mlflow.genai.load_prompt(f"prompts:/{name}/{version}")
    return prompt.format(text=text)
