"""How fast is Module 8's batched sentiment job on 10,000 reviews? Not a test: a measurement.

    uv run python benchmarks/batch_inference.py [--num-samples 10000] [--batch-size 64]
        [--exercise-file exercises/module_08/ex02_batch_inference.py]

Runs ``run_batch_job`` of exercise 2 (the reference solution, or the file
given) on generated reviews with known labels, in a local SparkSession, with
LangChain's ``ChatOpenAI`` talking to the kit's fake OpenAI server on
127.0.0.1 (it labels a numbered batch of reviews per call and counts the
calls it gets). Stages:

    spark     start a local SparkSession
    warm-up   a 200-review job: starts Spark's Python workers and their imports
    job       the measured job: num_samples reviews, batch_size per LLM call

and then the job's own numbers: the LLM calls it counted (the ``llm_calls``
metric), the calls the server saw, accuracy and throughput. The runs go to a
temporary MLflow store unless ``MLFLOW_TRACKING_URI`` is set.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make checker/ and fixtures/ importable

SOLUTION = ROOT / "solutions" / "module_08" / "ex02_batch_inference.py"
WARM_UP_SAMPLES = 200


def load_job(path: Path) -> ModuleType:
    """Import the exercise file; let Spark ship its functions by value to the workers."""
    from pyspark import cloudpickle

    spec = importlib.util.spec_from_file_location("kata_batch_inference_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    cloudpickle.register_pickle_by_value(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--exercise-file", type=Path, default=SOLUTION)
    args = parser.parse_args(argv)

    # Offline and quiet, like the tests; set before Spark starts so the workers inherit it.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

    from fixtures.batch_sentiment import batch_sentiment_responder
    from fixtures.llm_server import FakeLLMServer
    from fixtures.sentiment import generate_reviews
    from fixtures.spark import local_spark

    timings: list[tuple[str, float, str]] = []

    def timed(stage: str, fn, describe=lambda result: ""):
        print(f"{stage} ...", flush=True)
        start = time.perf_counter()
        result = fn()
        timings.append((stage, time.perf_counter() - start, describe(result)))
        return result

    with tempfile.TemporaryDirectory(prefix="batch-bench-") as scratch, FakeLLMServer() as server:
        server.responder = batch_sentiment_responder
        os.environ["OPENAI_BASE_URL"] = server.openai_base_url
        os.environ["OPENAI_API_KEY"] = "sk-kata-fake-key-not-real"
        if not os.environ.get("MLFLOW_TRACKING_URI"):
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(scratch) / 'mlflow.db'}"

        import mlflow

        mlflow.set_experiment("module-08-batch-inference-benchmark")
        job = load_job(args.exercise_file)

        spark = timed(
            "spark",
            lambda: local_spark(Path(scratch) / "warehouse", app_name="batch-inference-bench"),
            lambda s: f"master {s.sparkContext.master}",
        )
        try:
            timed(
                "warm-up",
                lambda: job.run_batch_job(spark, generate_reviews(WARM_UP_SAMPLES, seed=1)),
                lambda r: f"{r.num_samples} reviews, {r.llm_calls} LLM calls",
            )
            reviews = generate_reviews(args.num_samples, seed=0)
            before = len(server.chat_requests)
            result = timed(
                "job",
                lambda: job.run_batch_job(spark, reviews, batch_size=args.batch_size),
                lambda r: f"{r.num_samples} reviews, batch size {args.batch_size}",
            )
            seen = len(server.chat_requests) - before
        finally:
            spark.stop()

    print()
    print(f"{'stage':<10} {'seconds':>8}  details")
    for stage, seconds, details in timings:
        print(f"{stage:<10} {seconds:>8.2f}  {details}")
    print()
    print(f"reviews            {result.num_samples:>10,}")
    print(f"batch size         {args.batch_size:>10,}")
    print(f"LLM calls (job)    {result.llm_calls:>10,}")
    print(f"LLM calls (server) {seen:>10,}")
    print(f"  unbatched would  {result.num_samples:>10,}")
    print(f"  at least         {math.ceil(result.num_samples / args.batch_size):>10,}")
    print(f"accuracy           {result.accuracy:>10.3f}")
    print(f"job seconds        {result.duration_s:>10.2f}")
    print(f"throughput         {result.throughput:>10,.0f} reviews/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
