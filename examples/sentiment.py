"""``uv run mlflow-spark-langchain-ollama``: the learning plan's first tracing exercise.

    uv run mlflow-spark-langchain-ollama --num-samples 20                   # offline mock model
    uv run mlflow-spark-langchain-ollama --llm-type ollama --ollama-model llama3.2
    uv run mlflow-spark-langchain-ollama --llm-type openai                  # needs OPENAI_API_KEY
    uv run mlflow-spark-langchain-ollama --num-samples 10000 --batch-size 64   # Module 8: batched

It labels generated product reviews (``fixtures.sentiment``) with the reference
sentiment chain of module_02/ex03 (``prompt | chat model | parser``), one
review per row of a Spark DataFrame, in a Python UDF that runs on Spark's
workers. Each worker switches on ``mlflow.langchain.autolog`` and wraps each
review in a ``classify_review`` span linked to the run, so every review is one
trace: your span > the chain > the chat model with its prompt and tokens. The
run gets the params, the accuracy and a ``predictions.json`` table.

Configuration comes from the environment, as everywhere in the kata:
``MLFLOW_TRACKING_URI`` (default ``sqlite:///mlflow.db`` here), ``OLLAMA_HOST``
for Ollama, ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` for OpenAI, and
``SPARK_REMOTE`` for a Spark Connect server. An active SparkSession is reused
(and left running); otherwise a local one is started and stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from examples import DEFAULT_URI, how_to_look, load_solution, spark_session

EXPERIMENT = "spark-langchain-sentiment"
RUN_NAME = "spark-langchain-sentiment"
SOLUTION = "module_02/ex03_langchain_autolog.py"
REVIEW_SPAN = "classify_review"
PREDICTIONS_FILE = "predictions.json"
# What the workers need to reach the model: forwarded from the driver's environment,
# because Spark's Python workers inherit the environment of the JVM, not the driver's.
FORWARDED_ENV = ("OLLAMA_HOST", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlflow-spark-langchain-ollama",
        description="Label generated product reviews with a LangChain chain in Spark, "
        "traced by MLflow (one trace per review).",
    )
    parser.add_argument("--num-samples", type=int, default=20, help="reviews to label (20)")
    parser.add_argument(
        "--llm-type",
        choices=["mock", "ollama", "openai"],
        default="mock",
        help="mock (offline, default), ollama (OLLAMA_HOST) or openai (OPENAI_API_KEY)",
    )
    parser.add_argument("--ollama-model", default="llama3.2", help="the Ollama model (llama3.2)")
    parser.add_argument(
        "--openai-model", default="gpt-4o-mini", help="the OpenAI model (gpt-4o-mini)"
    )
    parser.add_argument("--experiment", default=EXPERIMENT, help=f"experiment ({EXPERIMENT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated reviews (0)")
    parser.add_argument(
        "--batch-size",
        type=int,
        help="label this many reviews per LLM call in a pandas UDF (Module 8), without "
        "per-review traces; default: one LLM call and one trace per review",
    )
    return parser


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a Spark worker needs to classify and trace reviews (pickled to it)."""

    tracking_uri: str
    experiment_id: str
    run_id: str
    llm_type: str
    model: str | None
    env: dict[str, str] = field(default_factory=dict)


# --- on the workers ---------------------------------------------------------------------

_WORKER: dict[str, Any] = {}  # per Python worker process: the config and chain in use


def _worker_chain(config: WorkerConfig) -> Any:
    """Set this worker process up for ``config`` once, and return its chain."""
    if _WORKER.get("config") != config:
        import mlflow

        os.environ.update(config.env)
        os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
        mlflow.set_tracking_uri(config.tracking_uri)
        mlflow.set_experiment(experiment_id=config.experiment_id)
        mlflow.tracing.reset()  # a reused worker may have traced to another store before
        solution = load_solution(SOLUTION)
        mlflow.langchain.autolog(silent=True)
        chain = solution.build_chain(solution.make_llm(config.llm_type, config.model))
        _WORKER.update(config=config, chain=chain, solution=solution)
    return _WORKER["chain"]


def classify_review(text: str, config: WorkerConfig) -> str:
    """Label one review on a worker: one trace, linked to the driver's run."""
    import mlflow

    chain = _worker_chain(config)
    # Our own span around the autologged chain (exercise 5), as the root of the trace;
    # run_id= links the trace to the run that the driver holds open.
    with mlflow.start_span(REVIEW_SPAN, span_type="CHAIN", run_id=config.run_id) as span:
        span.set_inputs({"review": text})
        label = _WORKER["solution"]._normalize_label(chain.invoke({"review": text}))
        span.set_outputs({"label": label})
    mlflow.flush_trace_async_logging()
    return label


# --- on the driver ----------------------------------------------------------------------


def _classify_per_row(df: Any, config: WorkerConfig) -> Any:
    """One UDF call per review: adds the column ``predicted``. (A batched ``pandas_udf``
    path with the same contract can sit beside this one.)"""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    label = F.udf(lambda text: classify_review(text, config), StringType())
    return df.withColumn("predicted", label(F.col("text")))


# --- the batched path (Module 8, exercise 2) ----------------------------------------------

BATCH_SOLUTION = "module_08/ex02_batch_inference.py"


def _batch_model_factory(config: WorkerConfig) -> Any:
    """What builds the chat model on a worker for the batched path (pickled to it, with the
    endpoint read on the driver)."""
    from functools import partial

    if config.llm_type == "ollama":
        from langchain_ollama import ChatOllama

        return partial(
            ChatOllama, model=config.model, base_url=config.env.get("OLLAMA_HOST"), temperature=0
        )
    if config.llm_type == "openai":
        from langchain_openai import ChatOpenAI

        return partial(
            ChatOpenAI,
            model=config.model,
            base_url=config.env.get("OPENAI_BASE_URL"),
            api_key=config.env.get("OPENAI_API_KEY"),
            temperature=0,
        )
    from fixtures.batch_sentiment import BatchSentimentChatModel

    return BatchSentimentChatModel  # the mock: labels a numbered batch of reviews per call


def _classify_in_batches(df: Any, config: WorkerConfig, batch_size: int) -> Any:
    """``batch_size`` reviews per LLM call in a pandas UDF, with module_08/ex02's
    ``classify_reviews``: adds the columns ``predicted`` and ``llm_calls``."""
    from pyspark import cloudpickle

    batch = load_solution(BATCH_SOLUTION)
    cloudpickle.register_pickle_by_value(batch)  # solutions/ cannot be imported on workers
    labelled = batch.classify_reviews(df, _batch_model_factory(config), batch_size=batch_size)
    return labelled.withColumnRenamed("sentiment", "predicted")


def _label_reviews_in_batches(
    spark: Any, reviews: list[dict], config: WorkerConfig, batch_size: int
) -> list[dict]:
    """Classify the reviews ``batch_size`` per LLM call; log the param ``batch_size`` and
    the metrics ``llm_calls``, ``duration_s`` and ``throughput`` (reviews per second) to the
    active run, and print them."""
    import mlflow
    import pandas as pd

    print(f"Batching {batch_size} reviews per LLM call (no per-review traces) ...", flush=True)
    rows = pd.DataFrame([{"id": i, **review} for i, review in enumerate(reviews, 1)])
    start = time.perf_counter()
    labelled = _classify_in_batches(spark.createDataFrame(rows), config, batch_size).toPandas()
    duration = time.perf_counter() - start
    calls = int(labelled["llm_calls"].sum())
    throughput = len(labelled) / duration if duration > 0 else 0.0
    mlflow.log_param("batch_size", batch_size)
    mlflow.log_metrics({"llm_calls": calls, "duration_s": duration, "throughput": throughput})
    print(f"  {len(labelled)} reviews in {duration:.1f} s: {throughput:,.0f} reviews/s")
    print(f"  LLM calls: {calls} (one call per review would be {len(labelled)})", flush=True)
    records = labelled.drop(columns=["llm_calls"]).to_dict("records")
    return sorted(records, key=lambda r: r["id"])


def _absolute(uri: str) -> str:
    """A relative ``sqlite:///file.db`` made absolute, so that workers find the same file."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not os.path.isabs(uri[len(prefix) :]):
        return prefix + os.path.abspath(uri[len(prefix) :])
    return uri


def _model_of(args: argparse.Namespace) -> str | None:
    return {"ollama": args.ollama_model, "openai": args.openai_model}.get(args.llm_type)


def _label_reviews(
    spark: Any, reviews: list[dict], config: WorkerConfig, classify: Any = None
) -> list[dict]:
    """Classify the reviews in Spark with ``classify(df, config)`` (default: one UDF call
    per row), printing each result as it arrives."""
    classify = classify or _classify_per_row
    rows = [{"id": i, **review} for i, review in enumerate(reviews, 1)]
    partitions = max(1, min(len(rows), 4))
    df = spark.createDataFrame(rows).repartition(partitions)
    results = []
    width = len(str(len(rows)))
    for row in classify(df, config).toLocalIterator(prefetchPartitions=True):
        result = row.asDict()
        results.append(result)
        mark = "ok" if result["predicted"] == result["label"] else f"expected {result['label']}"
        print(
            f"  [{len(results):>{width}}/{len(rows)}] {result['predicted']:<8} ({mark:<17}) "
            f"{result['text'][:60]}",
            flush=True,
        )
    return sorted(results, key=lambda r: r["id"])


def main(argv: list[str] | None = None) -> int:
    """Run the example; 0 on success."""
    args = _parser().parse_args(argv)
    if args.num_samples < 1:
        print("--num-samples must be at least 1", file=sys.stderr)
        return 2
    if args.batch_size is not None and args.batch_size < 1:
        print("--batch-size must be at least 1", file=sys.stderr)
        return 2
    uri = _absolute(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
    model = _model_of(args)
    print(f"Tracking to {uri} (set MLFLOW_TRACKING_URI to use another store)", flush=True)
    print(
        f"Labelling {args.num_samples} reviews with the {args.llm_type} backend"
        + (f" (model {model})" if model else "")
        + (
            f", {args.batch_size} reviews per LLM call."
            if args.batch_size
            else ", one Spark UDF call and one trace per review."
        ),
        flush=True,
    )

    import mlflow
    import pandas as pd

    from fixtures.sentiment import generate_reviews

    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.set_experiment(args.experiment).experiment_id
    reviews = generate_reviews(args.num_samples, seed=args.seed)
    start = time.perf_counter()
    print("Starting Spark ...", flush=True)
    with (
        spark_session("mlflow-spark-langchain-ollama") as spark,
        mlflow.start_run(run_name=RUN_NAME) as run,
    ):
        mlflow.log_params(
            {
                "num_samples": args.num_samples,
                "llm_type": args.llm_type,
                "model": model or "kata-sentiment",
                "seed": args.seed,
            }
        )
        config = WorkerConfig(
            tracking_uri=uri,
            experiment_id=experiment_id,
            run_id=run.info.run_id,
            llm_type=args.llm_type,
            model=model,
            env={k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k)},
        )
        print("Classifying (the first rows wait for Spark's Python workers to start) ...")
        if args.batch_size:
            results = _label_reviews_in_batches(spark, reviews, config, args.batch_size)
        else:
            results = _label_reviews(spark, reviews, config)
        correct = sum(r["predicted"] == r["label"] for r in results)
        accuracy = correct / len(results)
        mlflow.log_metrics(
            {
                "accuracy": accuracy,
                "correct_predictions": correct,
                "total_predictions": len(results),
            }
        )
        mlflow.log_table(pd.DataFrame(results), artifact_file=PREDICTIONS_FILE)

    traces = mlflow.search_traces(
        locations=[experiment_id], run_id=run.info.run_id, return_type="list", include_spans=False
    )
    print()
    print(f"Run {run.info.run_id} in experiment '{args.experiment}' (id {experiment_id})")
    print(f"  accuracy: {accuracy:.2%} ({correct}/{len(results)} correct)")
    print(f"  traces:   {len(traces)} linked to the run")
    print(f"  time:     {time.perf_counter() - start:.1f} s")
    print()
    print("\n".join(how_to_look(uri, experiment_id)))
    if args.batch_size:
        print("(the run's params, metrics and predictions table; batches log no traces.)")
    else:
        print("(the run's Traces tab: one trace per review, classify_review > RunnableSequence >")
        print(" the chat model with the rendered prompt and its token usage.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
