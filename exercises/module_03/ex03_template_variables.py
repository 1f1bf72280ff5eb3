"""Exercise 3: template variables, chat prompts and LangChain.

Real prompts have several variables, and chat models take a list of messages
(a ``system`` message that sets the role, a ``user`` message with the
request), often with a structured answer in mind. The registry stores all of
it: a chat prompt is a list of ``{"role", "content"}`` messages whose
variables can sit in any message, and a version can carry a *response format*
(a JSON schema, or a pydantic model that MLflow turns into one).

MLflow writes variables ``{{like_this}}``; LangChain writes them
``{like_this}``. ``PromptVersion.to_single_brace_format()`` converts.

Build:

1. ``register_chat_prompt(name)``: a system + user chat prompt with the
   variables ``product``, ``language`` and ``review``, stored with the
   ``SentimentResult`` response format.
2. ``render(prompt, **values)``: fill any prompt in; a missing value is a clear
   error, never a half-filled prompt.
3. ``to_langchain(prompt)``: turn a registered text or chat prompt into a
   LangChain ``ChatPromptTemplate`` with the same variables.

MLflow APIs practised: ``mlflow.genai.register_prompt`` (chat templates,
``response_format=``), ``PromptVersion.format``, ``.variables``,
``.is_text_prompt``, ``.to_single_brace_format()``.

Done looks like this: the prompt's page in the MLflow UI shows two messages
and the response format's schema; LangChain fills the converted template in
exactly as ``render`` does.

Run the checks: ``uv run pytest exercises/module_03/test_ex03_template_variables.py``
"""

from __future__ import annotations

from typing import Literal

import mlflow  # noqa: F401 - you will need these
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
    # TODO: write the two messages, then register them as the template, with
    #       response_format=SentimentResult.
    raise NotImplementedError("register_chat_prompt: not written yet (see the TODO above)")


def render(prompt: PromptVersion, **values: str) -> str | list[dict[str, str]]:
    """Fill in every variable of a text or chat prompt.

    A text prompt gives a string, a chat prompt its list of messages with the
    values in place. A missing value is an error that names the missing
    variable(s): never return a half-filled prompt.
    """
    # TODO: fill the prompt in (PromptVersion knows how, and checks for missing values).
    raise NotImplementedError("render: not written yet (see the TODO above)")


def to_langchain(prompt: PromptVersion) -> ChatPromptTemplate:
    """The registered prompt as a LangChain ``ChatPromptTemplate`` with the same variables.

    A text prompt becomes a template with one human message; a chat prompt keeps
    its messages and their roles. LangChain writes variables with single braces.
    """
    # TODO: convert the template to single braces; build the ChatPromptTemplate with
    #       from_template (text prompt) or from_messages (chat prompt: (role, content) pairs).
    raise NotImplementedError("to_langchain: not written yet (see the TODO above)")
