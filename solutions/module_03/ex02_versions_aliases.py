"""Reference solution for module_03/ex02_versions_aliases: release, promote, roll back."""

from __future__ import annotations

import mlflow

STAGING = "staging"
PRODUCTION = "production"
PREVIOUS = "previous"


def _version_at(name: str, alias: str) -> int | None:
    """The version ``name@alias`` points at right now, or None when the alias is not set.

    ``load_prompt`` keeps what it read through an alias for 60 seconds, so an alias
    that another process moved a moment ago would still resolve to the old version.
    ``cache_ttl_seconds=0`` asks the registry every time.
    """
    prompt = mlflow.genai.load_prompt(
        f"prompts:/{name}@{alias}", allow_missing=True, cache_ttl_seconds=0
    )
    return None if prompt is None else int(prompt.version)


def release(name: str, template: str, commit_message: str) -> int:
    """Register ``template`` as the next version of the prompt ``name``, with
    ``commit_message``, and point the ``STAGING`` alias at it.

    Returns:
        The number of the new version.
    """
    version = mlflow.genai.register_prompt(
        name=name, template=template, commit_message=commit_message
    ).version
    mlflow.genai.set_prompt_alias(name, alias=STAGING, version=version)
    return int(version)


def promote(name: str) -> int:
    """Put the version that ``STAGING`` points at into production.

    Read ``STAGING`` from the registry as it is now (another process may have
    moved it a moment ago). If ``PRODUCTION`` already points at a version,
    first point ``PREVIOUS`` at that version, so that ``rollback`` can return
    to it; then move ``PRODUCTION`` to the staging version.

    Returns:
        The version now in production.
    """
    staged = _version_at(name, STAGING)
    if staged is None:
        raise ValueError(f"prompt {name!r} has no {STAGING!r} alias: release a version first")
    current = _version_at(name, PRODUCTION)
    if current is not None:
        mlflow.genai.set_prompt_alias(name, alias=PREVIOUS, version=current)
    mlflow.genai.set_prompt_alias(name, alias=PRODUCTION, version=staged)
    return staged


def rollback(name: str) -> int:
    """Point ``PRODUCTION`` back at the version ``PREVIOUS`` points at.

    Read ``PREVIOUS`` from the registry as it is now. Raise ``ValueError`` when
    there is no ``PREVIOUS`` alias: nothing to roll back to.

    Returns:
        The version now in production.
    """
    previous = _version_at(name, PREVIOUS)
    if previous is None:
        raise ValueError(f"prompt {name!r} has no {PREVIOUS!r} version to roll back to")
    mlflow.genai.set_prompt_alias(name, alias=PRODUCTION, version=previous)
    return previous


def load_template(uri: str) -> str:
    """The template that a prompt URI resolves to right now.

    Every URI form works: ``prompts:/<name>/<version>``,
    ``prompts:/<name>@<alias>`` (``@production``, ``@staging`` ...) and
    ``prompts:/<name>@latest`` (the newest version). An alias is read fresh
    from the registry, never from a cache.
    """
    return mlflow.genai.load_prompt(uri, cache_ttl_seconds=0).template
