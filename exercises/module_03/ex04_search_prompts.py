"""Exercise 4: search and discovery.

Once a team has dozens of prompts, you find them the way you find runs: with a
search. ``mlflow.genai.search_prompts(filter_string=...)`` filters prompts by
name (``name LIKE 'support-%'``) and by tag (``tags.team = 'support'``),
clauses joined with ``AND``. It returns each prompt's metadata (name, tags,
description), not its versions: a version you load, e.g. the newest with
``prompts:/<name>@latest``.

The tags that ``register_prompt(tags=...)`` sets go on the version *and* on
the prompt; a later version adds its tags to the prompt's. Prompts share the
registry with registered models, but the prompt APIs only ever see prompts.

Build:

1. ``find_prompts(name_pattern, tags)``: the latest version of every prompt
   whose name matches the pattern and that carries every given tag, sorted by
   name.
2. ``history(name)``: every version of one prompt with its commit message,
   oldest first.

MLflow APIs practised: ``mlflow.genai.search_prompts``, filter strings,
``mlflow.genai.load_prompt`` with ``@latest``,
``MlflowClient().search_prompt_versions``.

Done looks like this: the same prompts that the search box of the UI's
**Prompts** page finds, each with its newest version.

Run the checks: ``uv run pytest exercises/module_03/test_ex04_search_prompts.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
from mlflow import MlflowClient  # noqa: F401
from mlflow.entities.model_registry import PromptVersion


def find_prompts(
    name_pattern: str | None = None, tags: dict[str, str] | None = None
) -> list[PromptVersion]:
    """The latest version of every prompt that matches, sorted by prompt name.

    Args:
        name_pattern: a SQL ``LIKE`` pattern for the prompt's name, where ``%``
            matches any run of characters (``"support-%"``); None matches every name.
        tags: prompt tags that must all be present with these values
            (``{"team": "support", "task": "generation"}``); None or ``{}`` for no
            condition on tags.

    Only prompts are returned, never registered models. No match gives ``[]``.
    """
    # TODO: build a filter string from the pattern and the tags (clauses joined by AND),
    #       search the prompts with it, load each one's latest version, sort by name.
    raise NotImplementedError("find_prompts: not written yet (see the TODO above)")


def history(name: str) -> list[tuple[int, str | None]]:
    """Every version of the prompt ``name`` as ``(version, commit_message)``, oldest first."""
    # TODO: list the prompt's versions (MlflowClient().search_prompt_versions) and order them.
    raise NotImplementedError("history: not written yet (see the TODO above)")
