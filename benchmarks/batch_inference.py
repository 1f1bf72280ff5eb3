"""How fast is Module 8's batched sentiment job on 10,000 reviews? Not a test: a measurement.

    uv run python benchmarks/batch_inference.py [--num-samples 10000] [--batch-size 64]
        [--exercise-file exercises/module_08/ex02_batch_inference.py]
        [--remote [sc://host:port/;token=...]]

Runs ``run_batch_job`` of exercise 2 (the reference solution, or the file
given) on generated reviews with known labels, in a local SparkSession, with
LangChain's ``ChatOpenAI`` talking to the kit's fake OpenAI server on
127.0.0.1 (it labels a numbered batch of reviews per call and counts the
calls it gets). Stages:

    server    (Spark Connect) start a local Spark Connect server, unless one is given
    spark     start a local SparkSession, or connect to the server
    warm-up   a 200-review job: starts Spark's Python workers and their imports
    job       the measured job: num_samples reviews, batch_size per LLM call

and then the job's own numbers: the LLM calls it counted (the ``llm_calls``
metric), the calls the server saw, accuracy and throughput. The runs go to a
temporary MLflow store unless ``MLFLOW_TRACKING_URI`` is set.

With ``--remote`` the job runs twice in one run, in classic local mode and over
Spark Connect, side by side: against the server given (whose Python workers must
reach the fake OpenAI server: start it with this environment), or a local one
started for the run with this process's environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make checker/ and fixtures/ importable

from stages import measure, over_spark_connect, print_side_by_side  # noqa: E402

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
    parser.add_argument(
        "--remote",
        nargs="?",
        const="local",
        help="also run over Spark Connect: against this sc:// URL, or (no value) a local server",
    )
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
    from fixtures.spark import connect_spark, local_spark

    with tempfile.TemporaryDirectory(prefix="batch-bench-") as scratch, FakeLLMServer() as server:
        server.responder = batch_sentiment_responder
        os.environ["OPENAI_BASE_URL"] = server.openai_base_url
        os.environ["OPENAI_API_KEY"] = "sk-kata-fake-key-not-real"
        if not os.environ.get("MLFLOW_TRACKING_URI"):
            os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(scratch) / 'mlflow.db'}"

        import mlflow

        mlflow.set_experiment("module-08-batch-inference-benchmark")
        job = load_job(args.exercise_file)
        results: dict[str, tuple] = {}

        def run(mode: str, make_session):
            def stages(timed):
                spark = timed("spark", make_session, lambda s: type(s).__module__.split(".")[-2])
                try:
                    warm_up = generate_reviews(WARM_UP_SAMPLES, seed=1)
                    timed(
                        "warm-up",
                        lambda: job.run_batch_job(spark, warm_up),
                        lambda r: f"{r.num_samples} reviews, {r.llm_calls} LLM calls",
                    )
                    reviews = generate_reviews(args.num_samples, seed=0)
                    before = len(server.chat_requests)
                    result = timed(
                        "job",
                        lambda: job.run_batch_job(spark, reviews, batch_size=args.batch_size),
                        lambda r: f"{r.num_samples} reviews, batch size {args.batch_size}",
                    )
                    results[mode] = (result, len(server.chat_requests) - before)
                finally:
                    spark.stop()

            return stages

        warehouse = Path(scratch) / "warehouse"
        runs = {"local": measure(run("local", lambda: local_spark(warehouse, "batch-bench")))}
        if args.remote:
            connect = run("spark connect", lambda: connect_spark(os.environ["SPARK_REMOTE"]))
            runs["spark connect"] = over_spark_connect(args.remote, Path(scratch), connect)

    print_side_by_side(runs)
    print()
    modes = list(results)
    print(f"{'':<19}" + "".join(f"{mode:>15}" for mode in modes))
    rows = [
        ("reviews", lambda r, seen: f"{r.num_samples:,}"),
        ("batch size", lambda r, seen: f"{args.batch_size:,}"),
        ("LLM calls (job)", lambda r, seen: f"{r.llm_calls:,}"),
        ("LLM calls (server)", lambda r, seen: f"{seen:,}"),
        ("  unbatched would", lambda r, seen: f"{r.num_samples:,}"),
        ("  at least", lambda r, seen: f"{math.ceil(r.num_samples / args.batch_size):,}"),
        ("accuracy", lambda r, seen: f"{r.accuracy:.3f}"),
        ("job seconds", lambda r, seen: f"{r.duration_s:.2f}"),
        ("throughput/s", lambda r, seen: f"{r.throughput:,.0f}"),
    ]
    for label, cell in rows:
        print(f"{label:<19}" + "".join(f"{cell(*results[m]):>15}" for m in modes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
