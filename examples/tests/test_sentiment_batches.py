"""`uv run mlflow-spark-langchain-ollama --batch-size N`: many reviews per LLM call (Module 8)."""

import math

from examples.sentiment import main
from fixtures.batch_sentiment import batch_sentiment_responder
from fixtures.runs import all_runs


def _the_run():
    runs = all_runs()
    assert len(runs) == 1, f"expected one run; found {len(runs)}"
    return runs[0]


def _parallelism(spark) -> int:
    """Spark's default parallelism, also over Spark Connect (no SparkContext there)."""
    return int(spark.conf.get("spark.default.parallelism", "2"))


def test_the_mock_backend_labels_batches_and_reports_calls_and_throughput(spark, capsys):
    assert main(["--num-samples", "40", "--batch-size", "8", "--experiment", "kata-batches"]) == 0

    run = _the_run()
    assert run.data.params["batch_size"] == "8"
    metrics = run.data.metrics
    assert metrics["accuracy"] == 1.0 and metrics["total_predictions"] == 40
    partitions = _parallelism(spark)
    assert math.ceil(40 / 8) <= metrics["llm_calls"] <= math.ceil(40 / 8) + partitions
    assert metrics["throughput"] > 0 and metrics["duration_s"] > 0
    out = capsys.readouterr().out
    assert f"LLM calls: {int(metrics['llm_calls'])} (one call per review would be 40)" in out
    assert "reviews/s" in out
    assert "one trace per review" not in out, "batches log no traces: the output must not say so"


def test_the_openai_backend_sends_one_request_per_batch(spark, fake_llm_env):
    fake_llm_env.responder = batch_sentiment_responder

    code = main(["--num-samples", "30", "--batch-size", "10", "--llm-type", "openai"])

    assert code == 0
    run = _the_run()
    requests = fake_llm_env.chat_requests
    assert run.data.metrics["llm_calls"] == len(requests) <= 3 + _parallelism(spark)
    assert {r.body.get("model") for r in requests} == {"gpt-4o-mini"}
    assert run.data.metrics["accuracy"] == 1.0


def test_a_batch_size_below_one_is_refused(capsys):
    assert main(["--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err
