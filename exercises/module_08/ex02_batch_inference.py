"""Exercise 2: LLM inference at Spark scale, in batches.

The learning plan's ``spark_langchain_ollama.py`` labels the sentiment of
reviews with an LLM inside Spark, one model call per row. At 10,000 rows that
is 10,000 calls: slow, and on a paid API expensive. Batching puts many
reviews in ONE prompt (numbered, one per line) and asks for one numbered
label per line, so the number of calls drops by the batch size.

Build:

1. ``openai_model_factory(model)``: a picklable function that builds a
   LangChain ``ChatOpenAI`` when a Spark worker calls it. Read the endpoint and
   key (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``) HERE, on the driver, and put
   them in the function: a worker does not see environment variables that the
   driver set after the Spark session started.
2. ``label_batch(model, texts)``: one model call for a list of texts.
3. ``classify_reviews(df, model_factory, batch_size)``: a pandas UDF that adds
   ``sentiment`` and ``llm_calls`` columns, calling the model once per
   ``batch_size`` texts.
4. ``run_batch_job(spark, reviews, ...)``: the job as one MLflow run, with
   ``llm_calls``, ``accuracy``, ``duration_s`` and ``throughput`` metrics.

Counting calls is the tricky part: the UDF runs in other processes, so a
counter you increment there never changes in the driver. Let the count travel
back with the data (the ``llm_calls`` column) and add it up.

APIs practised: ``pyspark.sql.functions.pandas_udf`` (the iterator form, which
builds the model once per partition), struct results of a UDF,
``mlflow.start_run``, ``mlflow.log_params``, ``mlflow.log_metrics``.

Done looks like this: the tests' fake model (a fake OpenAI server that labels
numbered reviews) sees about ``rows / batch_size`` calls instead of one per
row, every row gets the right label, and the run shows the numbers.
``uv run python benchmarks/batch_inference.py`` runs your job on 10,000 reviews.

Run the checks: ``uv run pytest exercises/module_08/test_ex02_batch_inference.py``
(the first Spark test of a session waits some seconds for Spark to start).
"""

from __future__ import annotations

import os  # noqa: F401 - you will need these
import re
import time  # noqa: F401
from collections.abc import Callable, Iterator  # noqa: F401
from dataclasses import dataclass
from functools import partial  # noqa: F401

import mlflow  # noqa: F401
import pandas as pd  # noqa: F401
from langchain_core.language_models.chat_models import BaseChatModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import pandas_udf  # noqa: F401

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
    # TODO: read OPENAI_BASE_URL and OPENAI_API_KEY now, and return a picklable function
    #       (functools.partial works) that builds ChatOpenAI(model=..., base_url=..., api_key=...).
    raise NotImplementedError("openai_model_factory: not written yet (see the TODO above)")


def label_batch(model: BaseChatModel, texts: list[str]) -> list[str]:
    """Label ``texts`` with ONE call to ``model``: ``SYSTEM_PROMPT`` as the system
    message, the texts numbered one per line as the user message. Returns one label
    per text, in order (``"neutral"`` for any the reply leaves out)."""
    # TODO: one model.invoke with [("system", SYSTEM_PROMPT), ("human", _numbered(texts))], then
    #       _parse_labels(reply text, len(texts)).
    raise NotImplementedError("label_batch: not written yet (see the TODO above)")


def classify_reviews(
    df: DataFrame, model_factory: ModelFactory, batch_size: int = BATCH_SIZE
) -> DataFrame:
    """Add the columns ``sentiment`` and ``llm_calls`` to ``df`` (which has a ``text``
    column), with a pandas UDF that labels ``batch_size`` texts per model call.

    ``llm_calls`` is 1 on the first row of each batch sent to the model and 0 on
    the others, so its sum over the DataFrame is the number of model calls.
    Every other column of ``df`` is kept.
    """
    # TODO: define a pandas_udf(RESULT_SCHEMA) over Iterator[pd.Series] -> Iterator[pd.DataFrame]:
    #       build the model once, label each slice of batch_size texts with label_batch, mark the
    #       first row of each slice with llm_calls=1; add its result to df and select its two
    #       fields.
    raise NotImplementedError("classify_reviews: not written yet (see the TODO above)")


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
    # TODO: in one run: log the params, time the job (createDataFrame, classify_reviews, toPandas),
    #       sum llm_calls, compute accuracy and throughput, log the metrics, return a
    #       BatchJobResult.
    raise NotImplementedError("run_batch_job: not written yet (see the TODO above)")
