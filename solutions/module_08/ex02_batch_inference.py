"""Reference solution for module_08/ex02_batch_inference: batched LLM calls in a pandas UDF."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import mlflow
import pandas as pd
from langchain_core.language_models.chat_models import BaseChatModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import pandas_udf

BATCH_SIZE = 32
LLM_MODEL = "gpt-4o-mini"
LABELS = ("positive", "negative", "neutral")
SYSTEM_PROMPT = (
    "You label the sentiment of product reviews. The user sends numbered reviews, one per "
    "line. Answer with one line per review, in the same order: '<number>. <label>', where "
    "<label> is positive, negative or neutral. Write nothing else."
)
RESULT_SCHEMA = "sentiment string, llm_calls int"

ModelFactory = Callable[[], BaseChatModel]


@dataclass
class BatchJobResult:
    """What one batch job measured (the same numbers are logged to its MLflow run)."""

    run_id: str
    num_samples: int
    llm_calls: int
    accuracy: float
    duration_s: float
    throughput: float  # rows per second


def _numbered(texts: list[str]) -> str:
    """The user message of a batch: one review per line, numbered from 1."""
    return "\n".join(f"{i}. {' '.join(text.split())}" for i, text in enumerate(texts, 1))


def _parse_labels(reply: str, count: int) -> list[str]:
    """The labels of a numbered reply, in order; a missing or unknown one is "neutral"."""
    found: dict[int, str] = {}
    for line in reply.splitlines():
        match = re.match(r"\s*(\d+)[.):]\s*([A-Za-z]+)", line)
        if match and match.group(2).lower() in LABELS:
            found[int(match.group(1))] = match.group(2).lower()
    return [found.get(i, "neutral") for i in range(1, count + 1)]


def openai_model_factory(model: str = LLM_MODEL) -> ModelFactory:
    """A function that builds a ``ChatOpenAI`` model when called, for Spark workers.

    The endpoint and key are read here, on the driver, from ``OPENAI_BASE_URL``
    and ``OPENAI_API_KEY`` (when set), and travel inside the returned function:
    Spark workers do not see environment variables set in the driver after
    the session started. The returned function must pickle (Spark ships it).
    """
    from langchain_openai import ChatOpenAI

    # Read the configuration now, on the driver; the workers get it in the closure.
    return partial(
        ChatOpenAI,
        model=model,
        base_url=os.environ.get("OPENAI_BASE_URL"),
        api_key=os.environ.get("OPENAI_API_KEY"),
        temperature=0,
    )


def label_batch(model: BaseChatModel, texts: list[str]) -> list[str]:
    """Label ``texts`` with ONE call to ``model``: ``SYSTEM_PROMPT`` as the system
    message, the texts numbered one per line as the user message. Returns one label
    per text, in order (``"neutral"`` for any the reply leaves out)."""
    if not texts:
        return []
    reply = model.invoke([("system", SYSTEM_PROMPT), ("human", _numbered(texts))])
    return _parse_labels(str(reply.content), len(texts))


def classify_reviews(
    df: DataFrame, model_factory: ModelFactory, batch_size: int = BATCH_SIZE
) -> DataFrame:
    """Add the columns ``sentiment`` and ``llm_calls`` to ``df`` (which has a ``text``
    column), with a pandas UDF that labels ``batch_size`` texts per model call.

    ``llm_calls`` is 1 on the first row of each batch sent to the model and 0 on
    the others, so its sum over the DataFrame is the number of model calls.
    Every other column of ``df`` is kept.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")

    # The iterator form of a pandas UDF runs once per partition: the model is
    # built once there, then every Arrow batch of texts streams through it.
    @pandas_udf(RESULT_SCHEMA)
    def label(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        model = model_factory()
        for texts in batches:
            labels: list[str] = []
            calls: list[int] = []
            for start in range(0, len(texts), batch_size):
                chunk = texts.iloc[start : start + batch_size].tolist()
                labels += label_batch(model, chunk)
                calls += [1] + [0] * (len(chunk) - 1)  # one call, charged to its first row
            yield pd.DataFrame({"sentiment": labels, "llm_calls": calls})

    labelled = df.withColumn("_result", label("text"))
    return labelled.select(*df.columns, "_result.sentiment", "_result.llm_calls")


def run_batch_job(
    spark: SparkSession,
    reviews: list[dict[str, str]],
    model_factory: ModelFactory | None = None,
    batch_size: int = BATCH_SIZE,
) -> BatchJobResult:
    """Label ``reviews`` (``{"text", "label"}`` dicts) with Spark and record the job in
    one MLflow run.

    The run has the params ``batch_size`` and ``num_samples`` and the metrics
    ``llm_calls`` (model calls made), ``accuracy`` (share of predicted labels
    equal to ``label``), ``duration_s`` (seconds the Spark job took) and
    ``throughput`` (rows per second). ``model_factory`` defaults to
    ``openai_model_factory()``.
    """
    factory = model_factory or openai_model_factory()
    with mlflow.start_run() as run:
        mlflow.log_params({"batch_size": batch_size, "num_samples": len(reviews)})
        started = time.perf_counter()
        df = spark.createDataFrame(pd.DataFrame(reviews, columns=["text", "label"]))
        rows = classify_reviews(df, factory, batch_size).select("label", "sentiment", "llm_calls")
        result = rows.toPandas()  # the action: the model calls happen here
        duration = time.perf_counter() - started

        # The call counts come back with the data; a counter in the driver would stay 0.
        calls = int(result["llm_calls"].sum())
        accuracy = float((result["sentiment"] == result["label"]).mean()) if len(result) else 0.0
        throughput = len(result) / duration if duration > 0 else 0.0
        mlflow.log_metrics(
            {
                "llm_calls": calls,
                "accuracy": accuracy,
                "duration_s": duration,
                "throughput": throughput,
            }
        )
    return BatchJobResult(
        run_id=run.info.run_id,
        num_samples=len(result),
        llm_calls=calls,
        accuracy=accuracy,
        duration_s=duration,
        throughput=throughput,
    )
