"""Exercise 3: LangChain autologging, one chain on three LLM backends.

The learning plan's sentiment classifier (``spark_langchain_ollama.py``) is a
LangChain chain, ``prompt | chat model | output parser``, whose chat model is
chosen by ``llm_type``: ``mock`` (an offline fake), ``ollama`` (a local Ollama
server) or ``openai``. Build it and trace it with one line:
``mlflow.langchain.autolog(silent=True)``. Autolog patches LangChain itself,
so every chain run becomes a trace, whatever the backend:

    RunnableSequence (CHAIN)
      - ChatPromptTemplate (CHAIN)
      - ChatOllama / ChatOpenAI / SentimentChatModel (CHAT_MODEL)
            inputs: the rendered messages; attributes: model, token usage
      - StrOutputParser (CHAIN)

(The plan's ``spark_langchain_multiple_mode.py`` switched autolog on for Ollama
only, so its mock and OpenAI runs left no traces: do better.)

MLflow API practised: ``mlflow.langchain.autolog``; reading a CHAT_MODEL span.
LangChain: ``ChatPromptTemplate.from_messages``, the ``|`` operator,
``StrOutputParser``, ``langchain_ollama.ChatOllama``, ``langchain_openai.ChatOpenAI``.
Never write an endpoint or a key in the code: ``ChatOllama`` reads ``OLLAMA_HOST``,
``ChatOpenAI`` reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``. The tests point
them at a fake server on 127.0.0.1; at home, the same code talks to your Ollama.

Done looks like this: ``classify_reviews(texts, "ollama")`` returns one label per
review, and the UI shows one trace per review with the prompt, the model's
reply and its token count.

Run the checks: ``uv run pytest exercises/module_02/test_ex03_langchain_autolog.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need it
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser  # noqa: F401 - you will need these
from langchain_core.prompts import ChatPromptTemplate  # noqa: F401
from langchain_core.runnables import Runnable

LLM_TYPES = ("mock", "ollama", "openai")
DEFAULT_MODELS = {"ollama": "llama3.2", "openai": "gpt-4o-mini"}
LABELS = ("positive", "negative", "neutral")
SYSTEM_PROMPT = (
    "You classify the sentiment of product reviews. "
    "Answer with exactly one word: positive, negative or neutral."
)
HUMAN_PROMPT = "Review: {review}"


def _normalize_label(reply: str) -> str:
    """The label in a model's reply ("Positive." -> "positive"); "neutral" when there is none."""
    text = reply.strip().lower()
    return next((label for label in LABELS if label in text), "neutral")


def make_llm(llm_type: str, model: str | None = None) -> BaseChatModel:
    """The chat model of a backend.

    - ``"mock"``: ``fixtures.fake_chat.SentimentChatModel()`` (offline, reports token usage);
    - ``"ollama"``: ``langchain_ollama.ChatOllama`` with ``model`` (default
      ``DEFAULT_MODELS["ollama"]``); the client finds the server through ``OLLAMA_HOST``;
    - ``"openai"``: ``langchain_openai.ChatOpenAI`` with ``model`` (default
      ``DEFAULT_MODELS["openai"]``); the client reads ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``.

    Any other ``llm_type`` raises ``ValueError`` naming the valid ones. Never write
    an endpoint or a key in the code: configuration comes from the environment.
    """
    # TODO: return the chat model for llm_type (import each client inside its branch);
    #       raise ValueError for an unknown llm_type.
    raise NotImplementedError("make_llm: not written yet (see the TODO above)")


def build_chain(llm: BaseChatModel) -> Runnable:
    """``prompt | llm | parser``: a chat prompt (``SYSTEM_PROMPT``, then ``HUMAN_PROMPT``
    with the variable ``review``), the model, and ``StrOutputParser`` so that
    ``chain.invoke({"review": text})`` returns the reply as a plain string."""
    # TODO: build the ChatPromptTemplate from a system and a human message, and pipe it
    #       into the model and a StrOutputParser.
    raise NotImplementedError("build_chain: not written yet (see the TODO above)")


def classify_reviews(
    texts: list[str], llm_type: str = "mock", model: str | None = None
) -> list[str]:
    """Label every review with the chain of ``llm_type``, one trace per review.

    Switch on LangChain autologging (``silent=True``) for whatever backend is used,
    before the chain runs, so that every review's chain run is recorded as a trace
    (prompt, chat model with its token usage, parser). Returns one label of
    ``LABELS`` per text, in order (use ``_normalize_label`` on the replies).
    """
    # TODO: switch on LangChain autolog, build the chain with make_llm(llm_type, model),
    #       invoke it once per text and normalize each reply.
    raise NotImplementedError("classify_reviews: not written yet (see the TODO above)")
