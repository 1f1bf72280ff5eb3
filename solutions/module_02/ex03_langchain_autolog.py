"""Reference solution for module_02/ex03_langchain_autolog: a sentiment chain traced by autolog."""

from __future__ import annotations

import mlflow
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
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
    if llm_type == "mock":
        from fixtures.fake_chat import SentimentChatModel

        return SentimentChatModel()
    if llm_type == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=model or DEFAULT_MODELS["ollama"], temperature=0)
    if llm_type == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=model or DEFAULT_MODELS["openai"], temperature=0)
    raise ValueError(f"unknown llm_type {llm_type!r}: use one of {', '.join(LLM_TYPES)}")


def build_chain(llm: BaseChatModel) -> Runnable:
    """``prompt | llm | parser``: a chat prompt (``SYSTEM_PROMPT``, then ``HUMAN_PROMPT``
    with the variable ``review``), the model, and ``StrOutputParser`` so that
    ``chain.invoke({"review": text})`` returns the reply as a plain string."""
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])
    return prompt | llm | StrOutputParser()


def classify_reviews(
    texts: list[str], llm_type: str = "mock", model: str | None = None
) -> list[str]:
    """Label every review with the chain of ``llm_type``, one trace per review.

    Switch on LangChain autologging (``silent=True``) for whatever backend is used,
    before the chain runs, so that every review's chain run is recorded as a trace
    (prompt, chat model with its token usage, parser). Returns one label of
    ``LABELS`` per text, in order (use ``_normalize_label`` on the replies).
    """
    # Autolog patches LangChain itself, so one call covers every backend: the mock,
    # ChatOllama and ChatOpenAI alike. silent=True keeps MLflow's own log lines quiet.
    mlflow.langchain.autolog(silent=True)
    chain = build_chain(make_llm(llm_type, model))
    return [_normalize_label(chain.invoke({"review": text})) for text in texts]
