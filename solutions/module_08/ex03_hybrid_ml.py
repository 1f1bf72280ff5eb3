"""Reference solution for module_08/ex03_hybrid_ml: an LLM feature in a scikit-learn model."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import openai
import pandas as pd
from mlflow.entities import SpanType, Trace
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

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


def _llm_spans(trace: Trace) -> list:
    return [s for s in trace.data.spans if s.span_type in (SpanType.LLM, SpanType.CHAT_MODEL)]


@mlflow.trace(name="llm_sentiment_feature", span_type=SpanType.CHAIN)
def llm_sentiment_scores(reviews: list[str], model: str = LLM_MODEL) -> list[float]:
    """The LLM-derived feature: ask the chat model ``model`` for the sentiment of each
    review (one call per review, with ``SENTIMENT_PROMPT``) and map its answer to a
    number with ``SENTIMENT_SCORES`` (an answer that is not a label counts 0.0).

    All the calls are recorded in ONE trace, each call a span of type LLM or
    CHAT_MODEL (``mlflow.openai.autolog()`` records the OpenAI client's calls).
    The client is configured the usual way (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``).
    """
    client = openai.OpenAI()
    scores = []
    for review in reviews:
        reply = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": SENTIMENT_PROMPT.format(review=review)}],
            temperature=0,
        )
        label = (reply.choices[0].message.content or "").strip().lower()
        scores.append(SENTIMENT_SCORES.get(label, 0.0))
    return scores


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
    frame = pd.DataFrame(customers)
    with mlflow.start_run() as run:
        # Create the classifier's LoggedModel first, so the LLM traces can point to it.
        model = mlflow.initialize_logged_model(name=MODEL_NAME)
        with mlflow.set_active_model(model_id=model.model_id):
            frame["llm_sentiment"] = llm_sentiment_scores(frame["review"].tolist())
        # flush=True: with async trace logging (the default) the trace may not be stored yet.
        trace = mlflow.get_trace(mlflow.get_last_active_trace_id(), flush=True)

        x_train, x_test, y_train, y_test = train_test_split(
            frame[FEATURES], frame[TARGET], test_size=0.25, random_state=0
        )
        classifier = LogisticRegression(C=100.0, max_iter=1000).fit(x_train, y_train)
        accuracy = float(classifier.score(x_test, y_test))

        usage = trace.info.token_usage or {}
        llm_calls = len(_llm_spans(trace))
        # In the run that logs the classifier, these metrics also land on its LoggedModel.
        mlflow.log_metrics(
            {
                "accuracy": accuracy,
                "llm_calls": llm_calls,
                "llm_total_tokens": usage.get("total_tokens", 0),
            }
        )
        mlflow.sklearn.log_model(
            classifier,
            name=MODEL_NAME,
            model_id=model.model_id,  # fill the LoggedModel created above
            pip_requirements=PIP_REQUIREMENTS,
        )
    return HybridResult(
        run_id=run.info.run_id, model_id=model.model_id, accuracy=accuracy, llm_calls=llm_calls
    )


# Every OpenAI call becomes a CHAT_MODEL span, with its token usage.
mlflow.openai.autolog()
