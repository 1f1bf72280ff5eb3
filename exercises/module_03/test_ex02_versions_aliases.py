"""Checks for ex02_versions_aliases: versions are immutable, aliases move, rollback works."""

import mlflow
import pytest
from mlflow import MlflowClient

from fixtures.messages import shown
from fixtures.prompts import prompt_aliases, prompt_versions

NAME = "sentiment"
T1 = "Label this review: {{text}}"
T2 = "Label this review as positive, negative or neutral: {{text}}"
T3 = "Answer positive, negative or neutral, in one word.\nReview: {{text}}"

CACHE_HINT = (
    "load_prompt remembers what an alias pointed at for 60 seconds; another process (a "
    "teammate, a CI job, the UI) moved it since. Pass cache_ttl_seconds=0 to read it fresh."
)


def _aliases() -> str:
    return str(prompt_aliases(NAME) or "no aliases")


@pytest.fixture
def teammate(mlflow_store) -> MlflowClient:
    """A client that works on the same registry from "another process".

    Its registry URI names the same database file, spelled differently, so the
    prompt cache of this process never hears of what it changes: exactly as
    when a teammate or a CI job moves an alias.
    """
    return MlflowClient(registry_uri=mlflow_store.uri.replace("/mlflow.db", "/./mlflow.db"))


def test_release_registers_the_next_version_with_its_commit_message(exercise):
    mlflow.genai.register_prompt(name=NAME, template=T1)

    version = exercise.release(NAME, T2, "Name the three labels")

    versions = prompt_versions(NAME)
    assert version == 2 and len(versions) == 2, (
        f"expected release to register version 2 (version 1 existed) and return 2; it returned "
        f"{shown(version)} and the prompt has versions {[v.version for v in versions]}"
    )
    assert (versions[1].template, versions[1].commit_message) == (T2, "Name the three labels"), (
        f"expected version 2 to hold the released template and commit message; found "
        f"{versions[1].template!r} with commit message {versions[1].commit_message!r}"
    )


def test_release_points_staging_at_the_new_version(exercise):
    exercise.release(NAME, T1, "First")
    exercise.release(NAME, T2, "Second")

    assert prompt_aliases(NAME).get("staging") == 2, (
        f"expected the alias 'staging' to point at version 2, the newest release; found "
        f"{_aliases()}. Move it with mlflow.genai.set_prompt_alias(name, alias, version)."
    )


def test_a_new_version_never_changes_the_old_ones(exercise):
    exercise.release(NAME, T1, "First")
    exercise.release(NAME, T2, "Second")
    exercise.release(NAME, T3, "Third")

    found = [(v.version, v.template, v.commit_message) for v in prompt_versions(NAME)]
    expected = [(1, T1, "First"), (2, T2, "Second"), (3, T3, "Third")]
    assert found == expected, (
        f"expected three versions, each with its own template and commit message, "
        f"{expected}; found {found}"
    )


def test_promote_moves_production_to_the_staging_version(exercise):
    exercise.release(NAME, T1, "First")
    exercise.release(NAME, T2, "Second")

    promoted = exercise.promote(NAME)

    assert (promoted, prompt_aliases(NAME).get("production")) == (2, 2), (
        f"expected promote to point 'production' at version 2 (where 'staging' points) and "
        f"return 2; it returned {shown(promoted)}, aliases: {_aliases()}"
    )


def test_promote_keeps_the_version_it_replaces_as_previous(exercise):
    exercise.release(NAME, T1, "First")
    exercise.promote(NAME)
    exercise.release(NAME, T2, "Second")
    exercise.promote(NAME)

    aliases = prompt_aliases(NAME)
    assert (aliases.get("production"), aliases.get("previous")) == (2, 1), (
        "expected 'production' on version 2 and 'previous' on version 1, the version that "
        f"production pointed at before the second promote; found {_aliases()}. Read "
        "production before you move it."
    )


def test_rollback_returns_production_to_the_version_it_replaced(exercise):
    exercise.release(NAME, T1, "First")
    exercise.promote(NAME)
    exercise.release(NAME, T2, "Second (never promoted)")
    exercise.release(NAME, T3, "Third")
    exercise.promote(NAME)

    restored = exercise.rollback(NAME)

    assert (restored, prompt_aliases(NAME).get("production")) == (1, 1), (
        "expected rollback to point 'production' back at version 1, the version in production "
        f"before version 3 (version 2 was never promoted), and return 1; it returned "
        f"{shown(restored)}, aliases: {_aliases()}"
    )


def test_rollback_with_nothing_to_return_to_raises_value_error(exercise):
    exercise.release(NAME, T1, "First")
    exercise.promote(NAME)

    try:
        restored = exercise.rollback(NAME)
    except ValueError:
        return
    pytest.fail(
        "expected rollback to raise ValueError: production has only ever pointed at version 1, "
        f"so there is no 'previous' to return to; it returned {shown(restored)}, aliases: "
        f"{_aliases()}"
    )


def test_promote_reads_staging_as_it_is_now_even_if_another_process_moved_it(exercise, teammate):
    exercise.release(NAME, T1, "First")
    exercise.promote(NAME)
    teammate.register_prompt(name=NAME, template=T2, commit_message="From CI")
    teammate.set_prompt_alias(NAME, "staging", 2)

    promoted = exercise.promote(NAME)

    assert (promoted, prompt_aliases(NAME).get("production")) == (2, 2), (
        "expected promote to put version 2 into production: another process released it and "
        f"moved 'staging' to it a moment ago. promote returned {shown(promoted)}, aliases: "
        f"{_aliases()}. {CACHE_HINT}"
    )


def test_promote_keeps_as_previous_the_version_production_points_at_now(exercise, teammate):
    exercise.release(NAME, T1, "First")
    exercise.promote(NAME)
    mlflow.genai.load_prompt(f"prompts:/{NAME}@production")  # the app here serves version 1
    teammate.register_prompt(name=NAME, template=T2, commit_message="Hotfix")
    teammate.set_prompt_alias(NAME, "production", 2)  # a hotfix shipped from another process
    exercise.release(NAME, T3, "Third")

    exercise.promote(NAME)

    aliases = prompt_aliases(NAME)
    assert (aliases.get("production"), aliases.get("previous")) == (3, 2), (
        "expected 'production' on version 3 and 'previous' on version 2, the hotfix that "
        "another process put into production a moment ago (this process had loaded "
        f"production when it was still version 1); found {_aliases()}. {CACHE_HINT}"
    )


def test_rollback_reads_previous_as_it_is_now_even_if_another_process_moved_it(exercise, teammate):
    exercise.release(NAME, T1, "First")
    exercise.promote(NAME)
    exercise.release(NAME, T2, "Second")
    exercise.promote(NAME)
    exercise.rollback(NAME)  # production back on version 1
    teammate.set_prompt_alias(NAME, "previous", 2)  # a teammate marks version 2 as good again

    restored = exercise.rollback(NAME)

    assert (restored, prompt_aliases(NAME).get("production")) == (2, 2), (
        "expected rollback to point 'production' at version 2, where another process moved "
        f"'previous' a moment ago, and return 2; it returned {shown(restored)}, aliases: "
        f"{_aliases()}. {CACHE_HINT}"
    )


@pytest.fixture
def three_versions():
    for template in (T1, T2, T3):
        mlflow.genai.register_prompt(name=NAME, template=template)
    mlflow.genai.set_prompt_alias(NAME, "production", 2)
    mlflow.genai.set_prompt_alias(NAME, "staging", 3)


def test_load_template_resolves_every_uri_form(exercise, three_versions):
    expected = {
        f"prompts:/{NAME}/1": T1,
        f"prompts:/{NAME}@production": T2,
        f"prompts:/{NAME}@staging": T3,
        f"prompts:/{NAME}@latest": T3,
    }

    found = {uri: exercise.load_template(uri) for uri in expected}

    wrong = {uri: shown(found[uri]) for uri in expected if found[uri] != expected[uri]}
    assert not wrong, (
        "expected each URI to resolve to its template (version 1 by number, production is "
        f"version 2, staging and latest version 3); these did not: {wrong}"
    )


def test_load_template_sees_an_alias_another_process_just_moved(exercise, three_versions, teammate):
    before = exercise.load_template(f"prompts:/{NAME}@production")
    teammate.set_prompt_alias(NAME, "production", 1)

    after = exercise.load_template(f"prompts:/{NAME}@production")

    assert (before, after) == (T2, T1), (
        "expected load_template('prompts:/sentiment@production') to follow the alias: version 2, "
        f"then version 1 once another process moved it; got {shown(before)}, then {shown(after)}. "
        f"{CACHE_HINT}"
    )
