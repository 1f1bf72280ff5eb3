"""Checks for ex01_register_prompt: a sentiment prompt registered, read back, filled in."""

import re

import mlflow
import pytest

from fixtures.messages import shown
from fixtures.prompts import prompt_versions

NAME = "sentiment"
REVIEW = "The kettle is excellent and I love it."


def _registered(version: int = 1):
    """The prompt version as the registry has it (not as the code under test returned it)."""
    found = {int(v.version): v for v in prompt_versions(NAME)}
    assert version in found, (
        f"expected version {version} of the prompt '{NAME}' in the prompt registry; it has "
        f"versions {sorted(found) or 'none'}. Register it with "
        "mlflow.genai.register_prompt(name=..., template=...)."
    )
    return found[version]


def _register_first(exercise):
    exercise.register_sentiment_prompt(owner="ana", commit_message="First sentiment prompt")
    return _registered(1)


def test_the_first_registration_creates_version_1_and_returns_it(exercise):
    returned = exercise.register_sentiment_prompt(owner="ana", commit_message="First prompt")

    stored = _registered(1)
    found = (getattr(returned, "name", None), getattr(returned, "version", None))
    assert found == (NAME, 1), (
        f"expected register_sentiment_prompt to return the PromptVersion that MLflow created "
        f"('{NAME}', version 1); it returned {shown(returned)}"
    )
    assert getattr(returned, "template", None) == stored.template, (
        "expected the returned PromptVersion to be the one in the registry; its template "
        f"differs:\nreturned: {shown(getattr(returned, 'template', None))}\n"
        f"registry: {stored.template!r}"
    )


def test_the_prompt_is_registered_under_the_name_it_is_given(exercise):
    exercise.register_sentiment_prompt(
        owner="ana", commit_message="For the kettle shop", name="kettle-sentiment"
    )

    found = {
        name: [int(v.version) for v in prompt_versions(name)] for name in ("kettle-sentiment", NAME)
    }
    assert found == {"kettle-sentiment": [1], NAME: []}, (
        "expected register_sentiment_prompt(..., name='kettle-sentiment') to register version 1 "
        f"of the prompt 'kettle-sentiment' and nothing under '{NAME}'; found versions {found}. "
        "Register under the name= argument."
    )


def test_the_template_has_one_variable_text_written_in_double_braces(exercise):
    registered = _register_first(exercise)
    variables = set(registered.variables)

    single = re.findall(r"(?<!\{)\{(\w+)\}(?!\})", registered.template)
    assert variables == {"text"}, (
        f"expected the template to have exactly one variable, 'text'; MLflow finds "
        f"{sorted(variables) or 'none'} in\n{registered.template!r}\n"
        + (
            f"{{{single[0]}}} has single braces: MLflow variables are written {{{{text}}}}."
            if single
            else "Write the variable as {{text}}."
        )
    )


def test_the_template_asks_for_one_of_the_three_labels(exercise):
    registered = _register_first(exercise)
    words = set(re.findall(r"[a-z]+", registered.template.lower()))

    missing = [label for label in ("positive", "negative", "neutral") if label not in words]
    assert not missing, (
        f"expected the template to name every label the model may answer (positive, negative, "
        f"neutral); it does not name {missing}:\n{registered.template}"
    )


def test_the_commit_message_is_stored_with_the_version(exercise):
    exercise.register_sentiment_prompt(owner="ana", commit_message="Label reviews in one word")

    stored = _registered(1)
    assert stored.commit_message == "Label reviews in one word", (
        "expected version 1 to carry the commit message 'Label reviews in one word'; "
        f"found {stored.commit_message!r}. Pass commit_message= to register_prompt."
    )


def test_the_version_is_tagged_with_the_task_and_its_owner(exercise):
    exercise.register_sentiment_prompt(owner="bruno", commit_message="First prompt")

    tags = _registered(1).tags
    expected = {"task": "sentiment-analysis", "owner": "bruno"}
    assert {k: tags.get(k) for k in expected} == expected, (
        f"expected the version's tags to include {expected}; found {tags}"
    )


def test_registering_again_creates_version_2_and_leaves_version_1_alone(exercise):
    exercise.register_sentiment_prompt(owner="ana", commit_message="First")
    first = _registered(1)
    second = exercise.register_sentiment_prompt(owner="carla", commit_message="Second")

    assert getattr(second, "version", None) == 2, (
        f"expected the second registration of '{NAME}' to create version 2; got {shown(second)}"
    )
    again = _registered(1)
    assert (again.template, again.commit_message, again.tags.get("owner")) == (
        first.template,
        "First",
        "ana",
    ), "expected version 1 to stay exactly as it was registered: versions are immutable"


@pytest.fixture
def two_versions():
    """Versions 1 and 2 of the prompt, registered with MLflow's own API."""
    v1 = mlflow.genai.register_prompt(name=NAME, template="Version one. Review: {{text}}")
    v2 = mlflow.genai.register_prompt(name=NAME, template="Version two. Review: {{text}}")
    return v1, v2


def test_fill_prompt_puts_the_review_into_the_template(exercise, two_versions):
    filled = exercise.fill_prompt(REVIEW, 1)

    assert filled == f"Version one. Review: {REVIEW}", (
        f"expected fill_prompt(review, 1) to return version 1's template with the review "
        f"in place of {{{{text}}}}: {'Version one. Review: ' + REVIEW!r}; got {shown(filled)}"
    )


def test_fill_prompt_uses_the_version_it_is_asked_for(exercise, two_versions):
    first, second = exercise.fill_prompt(REVIEW, 1), exercise.fill_prompt(REVIEW, 2)

    expected = (f"Version one. Review: {REVIEW}", f"Version two. Review: {REVIEW}")
    assert (first, second) == expected, (
        "expected fill_prompt(review, 1) to use version 1 and fill_prompt(review, 2) version 2, "
        f"although version 2 is the latest; got {shown(first)} and {shown(second)}. "
        "Load an exact version with the URI prompts:/<name>/<version>."
    )


def test_fill_prompt_loads_the_prompt_it_is_named(exercise, two_versions):
    mlflow.genai.register_prompt(name="lamp-sentiment", template="Lamp shop. Review: {{text}}")

    filled = exercise.fill_prompt(REVIEW, 1, name="lamp-sentiment")

    assert filled == f"Lamp shop. Review: {REVIEW}", (
        "expected fill_prompt(review, 1, name='lamp-sentiment') to fill version 1 of the prompt "
        f"'lamp-sentiment' (not of '{NAME}'); got {shown(filled)}"
    )
