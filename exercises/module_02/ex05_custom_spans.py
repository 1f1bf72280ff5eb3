"""Exercise 5: your own spans around an autologged chain, in one trace.

Autologging shows what the framework did; it cannot show the work your code
does around it. The plan asks you to "add custom trace spans" to the sentiment
pipeline: clean the raw review before the chain (reviews arrive with HTML and
odd spacing), and turn the model's reply into a result after it. Wrap all of
it so that one review is one trace:

    review_pipeline (CHAIN)        inputs {"review": raw}; outputs {"label", "stars"}
      - preprocess (PARSER)        inputs {"review": raw}; outputs {"review": clean}
      - RunnableSequence (CHAIN)   the autologged chain, fed the clean text
          - ... CHAT_MODEL ...
      - postprocess (PARSER)       inputs {"reply"}; outputs {"label", "stars"}

The key fact: autologged spans attach to the span that is active when the
framework runs. Call the chain while your pipeline span is open and its spans
nest under yours; call it outside and you get two separate traces.

MLflow API practised: ``mlflow.langchain.autolog`` together with
``mlflow.start_span`` (or ``@mlflow.trace``); span nesting across the two.

Done looks like this: in the UI, one trace per review, your three steps in
order under ``review_pipeline``, the chat model's span inside the chain's.

Run the checks: ``uv run pytest exercises/module_02/test_ex05_custom_spans.py``
"""

from __future__ import annotations

import html
import re

import mlflow  # noqa: F401 - you will need it
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from mlflow.entities import SpanType  # noqa: F401 - you will need it

PIPELINE_SPAN = "review_pipeline"
PREPROCESS_SPAN = "preprocess"
POSTPROCESS_SPAN = "postprocess"
MAX_REVIEW_CHARS = 300
STARS = {"positive": 5, "neutral": 3, "negative": 1}


# --- ready-made helpers ------------------------------------------------------------------


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


# --- your part ----------------------------------------------------------------------


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
    # TODO: switch on LangChain autolog; open the pipeline span; inside it, a preprocess
    #       span around _clean_review, the chain's invoke on the clean text, and a
    #       postprocess span around _to_result. Record inputs and outputs on each span.
    raise NotImplementedError("analyze_review: not written yet (see the TODO above)")
