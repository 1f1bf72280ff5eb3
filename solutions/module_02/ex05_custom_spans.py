"""Reference solution for module_02/ex05_custom_spans: your own spans around an autologged chain."""

from __future__ import annotations

import html
import re

import mlflow
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from mlflow.entities import SpanType

PIPELINE_SPAN = "review_pipeline"
PREPROCESS_SPAN = "preprocess"
POSTPROCESS_SPAN = "postprocess"
MAX_REVIEW_CHARS = 300
STARS = {"positive": 5, "neutral": 3, "negative": 1}


def _build_chain(llm: BaseChatModel) -> Runnable:
    """The sentiment chain of exercise 3: prompt | llm | parser, variable ``review``."""
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Classify the review's sentiment: positive, negative or neutral."),
            ("human", "Review: {review}"),
        ]
    )
    return prompt | llm | StrOutputParser()


def _clean_review(review: str) -> str:
    """Drop HTML tags, unescape entities, collapse whitespace, cut to MAX_REVIEW_CHARS."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", review))
    return " ".join(text.split())[:MAX_REVIEW_CHARS]


def _to_result(reply: str) -> dict:
    """``{"label", "stars"}`` from the model's reply ("neutral" when it names no label)."""
    text = reply.strip().lower()
    label = next((name for name in STARS if name in text), "neutral")
    return {"label": label, "stars": STARS[label]}


def analyze_review(review: str, llm: BaseChatModel) -> dict:
    """Classify one raw review (it may hold HTML and odd spacing); one call, one trace.

    Switch on LangChain autologging, then wrap the whole work in your own spans::

        review_pipeline (CHAIN)     inputs {"review": raw}; outputs: the returned dict
          - preprocess (PARSER)     inputs {"review": raw}; outputs {"review": clean}
          - <the autologged chain>  RunnableSequence > ... > CHAT_MODEL ..., fed the clean text
          - postprocess (PARSER)    inputs {"reply": the chain's reply}; outputs: the dict

    Use ``_clean_review``, ``_build_chain(llm)`` and ``_to_result``. Returns
    ``{"label": "positive" | "neutral" | "negative", "stars": 5 | 3 | 1}``.
    """
    mlflow.langchain.autolog(silent=True)
    chain = _build_chain(llm)

    with mlflow.start_span(PIPELINE_SPAN, span_type=SpanType.CHAIN) as pipeline:
        pipeline.set_inputs({"review": review})

        with mlflow.start_span(PREPROCESS_SPAN, span_type=SpanType.PARSER) as span:
            span.set_inputs({"review": review})
            clean = _clean_review(review)
            span.set_outputs({"review": clean})

        # Autologged spans attach to whatever span is active: while the pipeline span is
        # open, the chain's RunnableSequence becomes its child, in the same trace.
        reply = chain.invoke({"review": clean})

        with mlflow.start_span(POSTPROCESS_SPAN, span_type=SpanType.PARSER) as span:
            span.set_inputs({"reply": reply})
            result = _to_result(reply)
            span.set_outputs(result)

        pipeline.set_outputs(result)
    return result
