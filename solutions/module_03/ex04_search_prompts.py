"""Reference solution for module_03/ex04_search_prompts: find prompts by name and tags."""

from __future__ import annotations

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import PromptVersion


def _filter_string(name_pattern: str | None, tags: dict[str, str] | None) -> str | None:
    """A registry search filter: clauses joined by AND (the only joiner it accepts)."""
    clauses = []
    if name_pattern:
        clauses.append(f"name LIKE '{name_pattern}'")
    for key, value in (tags or {}).items():
        clauses.append(f"tags.`{key}` = '{value}'")
    return " AND ".join(clauses) or None


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
    found = mlflow.genai.search_prompts(filter_string=_filter_string(name_pattern, tags))
    # search_prompts returns prompt metadata (name, tags, description), not versions;
    # "@latest" resolves to the newest version of each.
    latest = [
        mlflow.genai.load_prompt(f"prompts:/{prompt.name}@latest", cache_ttl_seconds=0)
        for prompt in found
    ]
    return sorted(latest, key=lambda version: version.name)


def history(name: str) -> list[tuple[int, str | None]]:
    """Every version of the prompt ``name`` as ``(version, commit_message)``, oldest first."""
    versions = MlflowClient().search_prompt_versions(name)
    # The registry lists the newest version first: sort to get the history in order.
    return sorted((int(v.version), v.commit_message) for v in versions)
