"""Exercise 2: versions and aliases, a prompt's release process.

A prompt version never changes: a new wording is a new version. What moves
is an *alias*, a named pointer such as ``production`` or ``staging``. Your
app loads ``prompts:/sentiment@production`` and never needs a new deploy to
get a new prompt: moving the alias is the release, and moving it back is the
rollback.

Build a small release process on top of the registry:

1. ``release(name, template, commit_message)``: register the next version and
   point ``staging`` at it.
2. ``promote(name)``: put the ``staging`` version into ``production``,
   remembering the version it replaces under the alias ``previous``.
3. ``rollback(name)``: point ``production`` back at ``previous``.
4. ``load_template(uri)``: resolve any prompt URI (``prompts:/name/1``,
   ``prompts:/name@production``, ``prompts:/name@latest``).

Read aliases fresh: ``load_prompt`` remembers what an alias pointed at for 60
seconds, so an alias that another process (a teammate, a CI job, the UI)
moved a moment ago still resolves to the old version unless you pass
``cache_ttl_seconds=0``. The tests move aliases from "another process".

MLflow APIs practised: ``mlflow.genai.register_prompt``,
``mlflow.genai.set_prompt_alias``, ``mlflow.genai.load_prompt`` (URI forms,
``allow_missing``, ``cache_ttl_seconds``).

Done looks like this: on the prompt's page in the MLflow UI, every version is
still there as it was registered, and the aliases sit where your last
release, promote or rollback put them.

Run the checks: ``uv run pytest exercises/module_03/test_ex02_versions_aliases.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need it

STAGING = "staging"
PRODUCTION = "production"
PREVIOUS = "previous"


def release(name: str, template: str, commit_message: str) -> int:
    """Register ``template`` as the next version of the prompt ``name``, with
    ``commit_message``, and point the ``STAGING`` alias at it.

    Returns:
        The number of the new version.
    """
    # TODO: register the template, then point STAGING at the new version with
    #       mlflow.genai.set_prompt_alias(name, alias=..., version=...).
    raise NotImplementedError("release: not written yet (see the TODO above)")


def promote(name: str) -> int:
    """Put the version that ``STAGING`` points at into production.

    Read ``STAGING`` from the registry as it is now (another process may have
    moved it a moment ago). If ``PRODUCTION`` already points at a version,
    first point ``PREVIOUS`` at that version, so that ``rollback`` can return
    to it; then move ``PRODUCTION`` to the staging version.

    Returns:
        The version now in production.
    """
    # TODO: find the versions behind STAGING and PRODUCTION (load_prompt by alias URI;
    #       allow_missing=True gives None for an alias that is not set; read them fresh),
    #       keep the current production version as PREVIOUS, then move PRODUCTION.
    raise NotImplementedError("promote: not written yet (see the TODO above)")


def rollback(name: str) -> int:
    """Point ``PRODUCTION`` back at the version ``PREVIOUS`` points at.

    Read ``PREVIOUS`` from the registry as it is now. Raise ``ValueError`` when
    there is no ``PREVIOUS`` alias: nothing to roll back to.

    Returns:
        The version now in production.
    """
    # TODO: find the version behind PREVIOUS (fresh), raise ValueError if there is none,
    #       and move PRODUCTION to it.
    raise NotImplementedError("rollback: not written yet (see the TODO above)")


def load_template(uri: str) -> str:
    """The template that a prompt URI resolves to right now.

    Every URI form works: ``prompts:/<name>/<version>``,
    ``prompts:/<name>@<alias>`` (``@production``, ``@staging`` ...) and
    ``prompts:/<name>@latest`` (the newest version). An alias is read fresh
    from the registry, never from a cache.
    """
    # TODO: load the prompt by its URI, bypassing the alias cache, and return its template.
    raise NotImplementedError("load_template: not written yet (see the TODO above)")
