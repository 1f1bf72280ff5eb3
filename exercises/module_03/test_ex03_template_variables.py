"""Checks for ex03_template_variables: chat prompts, variables, response format, LangChain."""

import re

import mlflow
import pytest
from langchain_core.prompts import ChatPromptTemplate

from fixtures.messages import shown
from fixtures.prompts import prompt_versions

NAME = "review-chat"
TEXT = "Translate {{text}} from {{source}} to {{target}}."
TEXT_VALUES = {"text": "bonjour", "source": "French", "target": "English"}
CHAT = [
    {"role": "system", "content": "You rate reviews of a {{product}}. Answer in {{language}}."},
    {"role": "user", "content": "Review: {{review}}"},
]
CHAT_VALUES = {"product": "kettle", "language": "German", "review": "It is great."}


def _register_chat(exercise):
    exercise.register_chat_prompt(NAME)
    return _stored()


def _stored():
    versions = prompt_versions(NAME)
    assert versions, (
        f"expected register_chat_prompt({NAME!r}) to register version 1 of the prompt {NAME!r}; "
        "the registry has none"
    )
    return versions[0]


def _has(content: str, variable: str) -> bool:
    """Whether ``content`` holds ``{{variable}}`` (MLflow also accepts ``{{ variable }}``)."""
    return re.search(r"\{\{\s*" + variable + r"\s*\}\}", content) is not None


def _messages(value) -> str:
    """A prompt's template, a list of messages, or whatever the code returned, for a message."""
    if isinstance(value, str):
        return f"a text prompt: {shown(value)}"
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        return "\n".join(f"  {m.get('role')}: {shown(m.get('content'))}" for m in value)
    return shown(value)


def _chat_messages(stored) -> list[dict]:
    """The messages of the registered chat prompt; fails clearly on a text prompt."""
    assert not stored.is_text_prompt, (
        "expected a chat prompt (a list of {'role', 'content'} messages); the registered "
        f"version is {_messages(stored.template)}"
    )
    return stored.template


def test_register_chat_prompt_returns_the_version_it_registered(exercise):
    returned = exercise.register_chat_prompt(NAME)

    stored = _stored()
    found = (getattr(returned, "name", None), getattr(returned, "version", None))
    assert found == (NAME, 1) and getattr(returned, "template", None) == stored.template, (
        f"expected register_chat_prompt({NAME!r}) to return the PromptVersion that MLflow "
        f"created ({NAME!r}, version 1, with the registered messages); it returned "
        f"{shown(returned)}"
    )


def test_the_chat_prompt_has_a_system_and_a_user_message(exercise):
    stored = _register_chat(exercise)

    roles = [m.get("role") for m in stored.template] if not stored.is_text_prompt else None
    assert roles == ["system", "user"], (
        "expected a chat prompt: a list of two messages, a 'system' one then a 'user' one; "
        f"found {_messages(stored.template)}"
    )


def test_the_chat_prompt_variables_sit_in_the_right_messages(exercise):
    stored = _register_chat(exercise)

    assert set(stored.variables) == {"product", "language", "review"}, (
        f"expected the variables product, language and review, each written {{{{name}}}}; "
        f"MLflow finds {sorted(stored.variables) or 'none'} in\n{_messages(stored.template)}"
    )
    messages = _chat_messages(stored)
    system, user = str(messages[0].get("content")), str(messages[-1].get("content"))
    assert _has(system, "product") and _has(system, "language") and _has(user, "review"), (
        "expected {{product}} and {{language}} in the system message and {{review}} in the "
        f"user message; found\n{_messages(stored.template)}"
    )


def test_the_response_format_is_stored_with_the_prompt(exercise):
    stored = _register_chat(exercise)

    schema = stored.response_format or {}
    assert set(schema.get("properties", {})) == {"label", "confidence"}, (
        "expected the version to store SentimentResult as its response format (a JSON schema "
        f"with the properties label and confidence); found {shown(stored.response_format)}. "
        "register_prompt takes response_format=."
    )


def test_render_fills_every_variable_of_a_text_prompt(exercise):
    prompt = mlflow.genai.register_prompt(name="translate", template=TEXT)

    rendered = exercise.render(prompt, **TEXT_VALUES)

    assert rendered == "Translate bonjour from French to English.", (
        f"expected render to fill text, source and target into {TEXT!r}; got {shown(rendered)}"
    )


def test_render_fills_every_message_of_a_chat_prompt(exercise):
    prompt = mlflow.genai.register_prompt(name=NAME, template=CHAT)

    rendered = exercise.render(prompt, **CHAT_VALUES)

    expected = [
        {"role": "system", "content": "You rate reviews of a kettle. Answer in German."},
        {"role": "user", "content": "Review: It is great."},
    ]
    assert rendered == expected, (
        f"expected render to return the chat prompt's messages with every value filled in, "
        f"{expected}; got {_messages(rendered)}"
    )


def test_render_with_a_missing_variable_is_an_error_that_names_it(exercise):
    prompt = mlflow.genai.register_prompt(name=NAME, template=CHAT)
    values = {"product": "kettle", "review": "It is great."}  # no language

    try:
        rendered = exercise.render(prompt, **values)
    except NotImplementedError:
        raise
    except Exception as error:  # any error will do, if it says what is missing
        assert "language" in str(error), (
            f"expected the error to name the missing variable 'language'; it says: {error}"
        )
    else:
        pytest.fail(
            "expected render without a value for 'language' to raise an error naming it; it "
            f"returned a half-filled prompt instead:\n{_messages(rendered)}"
        )


def _assert_chat_prompt_template(template) -> None:
    assert isinstance(template, ChatPromptTemplate), (
        f"expected a langchain_core ChatPromptTemplate; got {type(template).__name__}: "
        f"{shown(template)}"
    )


def test_to_langchain_turns_a_text_prompt_into_a_template_with_the_same_variables(exercise):
    prompt = mlflow.genai.register_prompt(name="translate", template=TEXT)

    template = exercise.to_langchain(prompt)

    _assert_chat_prompt_template(template)
    assert sorted(template.input_variables) == ["source", "target", "text"], (
        f"expected the LangChain template's variables to be source, target and text; found "
        f"{sorted(template.input_variables) or 'none'}. LangChain reads {{{{text}}}} as a "
        "literal '{text}': convert with to_single_brace_format()."
    )
    messages = template.invoke(TEXT_VALUES).to_messages()
    found = [(m.type, m.text) for m in messages]
    assert found == [("human", "Translate bonjour from French to English.")], (
        f"expected one human message with the filled-in text; found {found}"
    )


def test_to_langchain_keeps_the_roles_and_wording_of_a_chat_prompt(exercise):
    prompt = mlflow.genai.register_prompt(name=NAME, template=CHAT)

    template = exercise.to_langchain(prompt)

    _assert_chat_prompt_template(template)
    messages = template.invoke(CHAT_VALUES).to_messages()
    found = [(m.type, m.text) for m in messages]
    expected = [
        ("system", "You rate reviews of a kettle. Answer in German."),
        ("human", "Review: It is great."),
    ]
    assert found == expected, (
        f"expected the chat prompt's system and user messages, filled in: {expected}; found {found}"
    )
