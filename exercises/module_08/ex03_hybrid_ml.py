"""Exercise 3: hybrid ML + GenAI, one lineage for both.

A classic model often gets better with a feature only an LLM can compute.
Here a churn classifier (scikit-learn) learns from two numbers about each
customer AND from the sentiment an LLM reads in the customer's review. Both
halves must be tracked together: the classifier as a LoggedModel, and the LLM
step (its traces, calls and tokens) in the same run, linked to the very same
model, so that anyone looking at the classifier can see the LLM work it
depends on.

Build:

1. ``llm_sentiment_scores(reviews)``: the LLM feature, one traced step.
2. ``train_churn_model(customers)``: one run that creates the classifier's
   LoggedModel FIRST (``mlflow.initialize_logged_model(name=...)``), makes it
   the active model while the LLM works, trains the classifier, logs the
   metrics, and logs the classifier into that same LoggedModel
   (``mlflow.sklearn.log_model(..., name=..., model_id=...)``).

Why first? A trace is linked to the model that is active while it is
recorded. If you log the classifier at the end without ``model_id=``, MLflow
creates a NEW LoggedModel, and the LLM traces point to another one.

MLflow APIs practised: ``mlflow.openai.autolog()``, ``@mlflow.trace``,
``mlflow.initialize_logged_model``, ``mlflow.set_active_model(model_id=...)``
(also a context manager), ``mlflow.get_last_active_trace_id`` and
``mlflow.get_trace`` (span types, ``trace.info.token_usage``),
``mlflow.log_metrics``, ``mlflow.sklearn.log_model(name=, model_id=,
pip_requirements=)``.

The chat model is the OpenAI client, configured the usual way
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``); the tests point it at a fake server
that labels reviews.

Done looks like this: in the UI, the ``churn-classifier`` model page shows
its metrics (accuracy and the LLM's calls and tokens) and, under Traces, the
LLM feature step; the run lists the model and the same trace.

Run the checks: ``uv run pytest exercises/module_08/test_ex03_hybrid_ml.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow  # noqa: F401 - you will need these
import openai  # noqa: F401
import pandas as pd  # noqa: F401
from mlflow.entities import SpanType, Trace  # noqa: F401
from sklearn.linear_model import LogisticRegression  # noqa: F401
from sklearn.model_selection import train_test_split  # noqa: F401

MODEL_NAME = "churn-classifier"
LLM_MODEL = "gpt-4o-mini"
FEATURES = ["llm_sentiment", "support_tickets", "tenure_months"]
TARGET = "churned"
SENTIMENT_SCORES = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
SENTIMENT_PROMPT = (
    "Classify the sentiment of this customer review as positive, negative or neutral. "
    "Answer with the label only.\nReview: {review}"
)
PIP_REQUIREMENTS = ["scikit-learn"]


@dataclass
class HybridResult:
    """What ``train_churn_model`` produced."""

    run_id: str
    model_id: str
    accuracy: float  # on the held-out quarter of the customers
    llm_calls: int


def llm_sentiment_scores(reviews: list[str], model: str = LLM_MODEL) -> list[float]:
    """The LLM-derived feature: ask the chat model ``model`` for the sentiment of each
    review (one call per review, with ``SENTIMENT_PROMPT``) and map its answer to a
    number with ``SENTIMENT_SCORES`` (an answer that is not a label counts 0.0).

    All the calls are recorded in ONE trace, each call a span of type LLM or
    CHAT_MODEL (``mlflow.openai.autolog()`` records the OpenAI client's calls).
    The client is configured the usual way (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``).
    """
    # TODO: trace this function (one trace for all reviews); call the chat model once per review
    #       with SENTIMENT_PROMPT and map the answer with SENTIMENT_SCORES. Turn on
    #       mlflow.openai.autolog() (once, e.g. at the bottom of this file) for the LLM spans.
    raise NotImplementedError("llm_sentiment_scores: not written yet (see the TODO above)")


def train_churn_model(customers: list[dict]) -> HybridResult:
    """Train a churn classifier on an LLM feature and two numbers, all in ONE run.

    ``customers`` are dicts with ``review`` (text), ``support_tickets`` and
    ``tenure_months`` (ints) and ``churned`` (0 or 1). The classifier (any
    scikit-learn classifier; a linear model logs as it is, a tree model needs
    ``skops_trusted_types=`` in ``log_model``, see the lesson) gets the columns
    ``FEATURES``, in that order, where ``llm_sentiment`` comes from
    ``llm_sentiment_scores``; hold out a quarter of the customers to measure its
    accuracy.

    In the run:
    - the classifier, logged with ``mlflow.sklearn.log_model(..., name=MODEL_NAME)``;
    - the trace of the LLM feature step, linked to the run AND to the
      classifier's ``model_id`` (so the LoggedModel must exist, and be the active
      model, before the LLM is called);
    - the metrics ``accuracy``, ``llm_calls`` (LLM calls in that trace) and
      ``llm_total_tokens`` (their total tokens, from the trace), on the run and
      on the classifier's LoggedModel.
    """
    # TODO: start a run; initialize the LoggedModel MODEL_NAME; compute llm_sentiment while it is
    #       the active model; split, fit, score; read llm_calls and llm_total_tokens from the
    #       trace; log the metrics; log the classifier with name= and model_id=.
    raise NotImplementedError("train_churn_model: not written yet (see the TODO above)")
