"""Reference solution for module_03/ex03_template_variables: chat prompts, variables, LangChain."""

from __future__ import annotations

from typing import Literal

import mlflow
from langchain_core.prompts import ChatPromptTemplate
from mlflow.entities.model_registry import PromptVersion
from pydantic import BaseModel

CHAT_VARIABLES = {"product", "language", "review"}


class SentimentResult(BaseModel):
    """The structured answer the chat prompt asks for."""

    label: Literal["positive", "negative", "neutral"]
    confidence: float


def register_chat_prompt(name: str) -> PromptVersion:
    """Register a chat prompt for sentiment analysis under ``name`` and return it.

    It is a list of two messages, ``{"role": ..., "content": ...}``:

    - a ``system`` message that makes the model a sentiment classifier for
      reviews of a ``{{product}}``, answering in ``{{language}}``;
    - a ``user`` message that holds the review, ``{{review}}``.

    So its variables are exactly ``CHAT_VARIABLES``. Store ``SentimentResult``
    with it as the response format the model must follow.
    """
    messages = [
        {
            "role": "system",
            "content": (
                "You classify the sentiment of customer reviews of a {{product}}. "
                "Answer in {{language}} with a label (positive, negative or neutral) "
                "and your confidence between 0 and 1."
            ),
        },
        {"role": "user", "content": "Review: {{review}}"},
    ]
    # response_format takes a pydantic model (or a JSON schema dict); MLflow stores it
    # as a JSON schema with the version, for the code that calls the model.
    return mlflow.genai.register_prompt(
        name=name,
        template=messages,
        commit_message="Chat prompt with a structured answer",
        response_format=SentimentResult,
    )


def render(prompt: PromptVersion, **values: str) -> str | list[dict[str, str]]:
    """Fill in every variable of a text or chat prompt.

    A text prompt gives a string, a chat prompt its list of messages with the
    values in place. A missing value is an error that names the missing
    variable(s): never return a half-filled prompt.
    """
    # format() raises an MlflowException naming the missing variables; with
    # allow_partial=True it would quietly leave "{{language}}" in the text.
    return prompt.format(**values)


def to_langchain(prompt: PromptVersion) -> ChatPromptTemplate:
    """The registered prompt as a LangChain ``ChatPromptTemplate`` with the same variables.

    A text prompt becomes a template with one human message; a chat prompt keeps
    its messages and their roles. LangChain writes variables with single braces.
    """
    # to_single_brace_format() rewrites {{var}} as {var}; LangChain would read
    # "{{var}}" as an escaped, literal "{var}" and find no variable at all.
    template = prompt.to_single_brace_format()
    if prompt.is_text_prompt:
        return ChatPromptTemplate.from_template(template)
    return ChatPromptTemplate.from_messages([(m["role"], m["content"]) for m in template])
