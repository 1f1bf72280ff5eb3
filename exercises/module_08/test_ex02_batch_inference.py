"""Checks for ex02_batch_inference: batched LLM calls in a pandas UDF, measured in a run."""

import math

import pandas as pd
import pytest
from langchain_openai import ChatOpenAI
from pyspark import cloudpickle

from fixtures.batch_sentiment import batch_sentiment_responder, numbered_lines
from fixtures.messages import shown
from fixtures.runs import all_runs
from fixtures.sentiment import generate_reviews


def _model(server):
    """A real ChatOpenAI client talking to the fake server, which labels numbered batches."""
    server.responder = batch_sentiment_responder
    return ChatOpenAI(
        model="gpt-4o-mini", base_url=server.openai_base_url, api_key="sk-kata", max_retries=0
    )


def _factory(server):
    """A model factory for Spark workers: the endpoint travels inside it."""
    server.responder = batch_sentiment_responder
    url = server.openai_base_url
    return lambda: ChatOpenAI(model="gpt-4o-mini", base_url=url, api_key="sk-kata", max_retries=0)


def _frame(spark, reviews):
    rows = [{"review_id": i, "text": r["text"], "label": r["label"]} for i, r in enumerate(reviews)]
    return spark.createDataFrame(pd.DataFrame(rows)).repartition(2)


def _classify(exercise, server, df, batch_size):
    """Run classify_reviews; return its rows (pandas) and the model calls the server saw."""
    before = len(server.chat_requests)
    out = exercise.classify_reviews(df, _factory(server), batch_size=batch_size)
    rows = out.toPandas()
    return rows, len(server.chat_requests) - before


def test_label_batch_labels_a_whole_batch_with_one_model_call(exercise, fake_llm_server):
    reviews = generate_reviews(7)

    labels = exercise.label_batch(_model(fake_llm_server), [r["text"] for r in reviews])

    requests = fake_llm_server.chat_requests
    assert len(requests) == 1, (
        f"expected ONE model call for a batch of 7 reviews; the model was called {len(requests)} "
        "times. Put every review of the batch in one prompt, numbered one per line."
    )
    assert _listed(labels) == [r["label"] for r in reviews], (
        f"expected the labels {[r['label'] for r in reviews]} in the order of the texts; "
        f"got {shown(labels)}"
    )
    messages = requests[0].body["messages"]
    assert messages[0] == {"role": "system", "content": exercise.SYSTEM_PROMPT}, (
        f"expected SYSTEM_PROMPT as the system message; the model received {messages[0]!r}"
    )
    sent = numbered_lines(messages[-1]["content"])
    assert [n for n, _ in sent] == list(range(1, 8)), (
        "expected the user message to list the reviews numbered 1. to 7., one per line; "
        f"it was {messages[-1]['content']!r}"
    )


def _listed(labels):
    """label_batch's result as a list, or as it is when it is not a sequence."""
    return list(labels) if isinstance(labels, list | tuple) else labels


def test_label_batch_labels_neutral_a_review_the_reply_leaves_out(exercise, fake_llm_server):
    reviews = [r for r in generate_reviews(12, seed=6) if r["label"] != "neutral"][:4]
    model = _model(fake_llm_server)

    def forgets_the_second(request):
        lines = batch_sentiment_responder(request).splitlines()
        return "\n".join(line for line in lines if not line.startswith("2."))

    fake_llm_server.responder = forgets_the_second

    labels = exercise.label_batch(model, [r["text"] for r in reviews])

    expected = [r["label"] for r in reviews]
    expected[1] = "neutral"
    assert _listed(labels) == expected, (
        f"expected {expected}: the labels of the reply, in order, and 'neutral' for review 2, "
        f"which the reply leaves out; got {shown(labels)}"
    )


def test_the_model_factory_builds_the_model_it_is_given(exercise, fake_llm_env):
    fake_llm_env.responder = batch_sentiment_responder
    factory = exercise.openai_model_factory("kata-batch-model")

    factory().invoke("1. The lamp is great.")

    models = [r.body.get("model") for r in fake_llm_env.chat_requests]
    assert models == ["kata-batch-model"], (
        f"expected the built model to call the model named in openai_model_factory(model) "
        f"('kata-batch-model'); found calls to {shown(models)}"
    )


def test_the_model_factory_carries_the_driver_endpoint_to_the_workers(
    exercise, fake_llm_env, monkeypatch
):
    fake_llm_env.responder = batch_sentiment_responder
    factory = exercise.openai_model_factory()
    shipped = cloudpickle.loads(cloudpickle.dumps(factory))  # what Spark does with it

    # A Spark worker started earlier does not see the driver's later environment.
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    try:
        reply = shipped().invoke("1. The lamp is great.")
    except Exception as err:  # noqa: BLE001 - explain any failure in the learner's terms
        pytest.fail(
            "expected the model built from openai_model_factory() to reach the endpoint that "
            "OPENAI_BASE_URL and OPENAI_API_KEY named on the driver, even where those variables "
            f"are not set (as in a Spark worker); calling it failed: {type(err).__name__}: {err}. "
            "Read the variables in openai_model_factory itself, and put them in the factory.",
            pytrace=False,
        )
    assert fake_llm_env.chat_requests, "expected the shipped model to call the driver's endpoint"
    assert "positive" in str(reply.content), f"expected a label back; got {reply.content!r}"


def test_classify_reviews_labels_every_row_and_keeps_the_other_columns(
    exercise, spark, fake_llm_server
):
    reviews = generate_reviews(120, seed=3)

    rows, _ = _classify(exercise, fake_llm_server, _frame(spark, reviews), batch_size=16)

    missing = {"review_id", "text", "label", "sentiment", "llm_calls"} - set(rows.columns)
    assert not missing, (
        f"expected the columns of df plus sentiment and llm_calls; missing {missing}"
    )
    assert len(rows) == len(reviews), f"expected {len(reviews)} rows; got {len(rows)}"
    wrong = rows[rows["sentiment"] != rows["label"]]
    assert wrong.empty, (
        f"expected every row's sentiment to be its review's label (the fake model is always "
        f"right); {len(wrong)} rows differ, e.g. {wrong.head(3).to_dict('records')}. Do the "
        "labels come back in the order of the texts of each batch?"
    )


def _partitions(df) -> int:
    """How many partitions ``df`` has (the DataFrame API: RDDs are not on Spark Connect)."""
    from pyspark.sql import functions as F

    return df.select(F.spark_partition_id().alias("p")).distinct().count()


def test_batching_cuts_the_model_calls_by_the_batch_size(exercise, spark, fake_llm_server):
    df = _frame(spark, generate_reviews(60, seed=5))
    partitions = _partitions(df)

    one_by_one, calls_unbatched = _classify(exercise, fake_llm_server, df, batch_size=1)
    batched, calls_batched = _classify(exercise, fake_llm_server, df, batch_size=20)

    assert calls_unbatched == 60, (
        f"expected 60 model calls for 60 rows with batch_size=1; the model saw {calls_unbatched}"
    )
    most = math.ceil(60 / 20) + partitions
    assert calls_batched <= most, (
        f"expected at most {most} model calls for 60 rows with batch_size=20 (one per batch of "
        f"20 texts, in each of {partitions} partitions); the model saw {calls_batched}"
    )
    for rows, calls, size in ((one_by_one, calls_unbatched, 1), (batched, calls_batched, 20)):
        counted = int(rows["llm_calls"].sum())
        assert counted == calls, (
            f"expected the llm_calls column to add up to the number of model calls "
            f"({calls} with batch_size={size}); it adds up to {counted}. Put 1 on the first "
            "row of each batch sent to the model and 0 on the others."
        )


def test_llm_calls_marks_the_first_row_of_each_batch(exercise, spark, fake_llm_server):
    from pyspark.sql import functions as F

    # Each row knows its partition: the UDF sees a partition's rows in this order.
    df = _frame(spark, generate_reviews(50, seed=8)).withColumn("partition", F.spark_partition_id())

    rows, _ = _classify(exercise, fake_llm_server, df, batch_size=10)

    if "partition" not in rows.columns or "llm_calls" not in rows.columns:
        pytest.fail(
            f"expected the columns of df plus llm_calls; found {shown(list(rows.columns))}",
            pytrace=False,
        )
    for partition, group in rows.groupby("partition", sort=False):
        found = [int(n) for n in group["llm_calls"]]
        expected = [1 if i % 10 == 0 else 0 for i in range(len(found))]
        assert found == expected, (
            f"expected llm_calls to be 1 on the first row of each batch of 10 and 0 on the "
            f"others, in every partition; in partition {partition} found {found}"
        )


def test_run_batch_job_logs_the_calls_accuracy_and_throughput_in_one_run(
    exercise, spark, own_llm_env
):
    # A server of this test's own: Spark reuses its Python workers, and one may still
    # have an earlier test's endpoint in its environment (as on a real cluster).
    own_llm_env.responder = batch_sentiment_responder
    reviews = generate_reviews(150, seed=11)

    result = exercise.run_batch_job(spark, reviews, batch_size=50)

    runs = all_runs()
    assert len(runs) == 1, f"expected the job to be one MLflow run; found {len(runs)}"
    run = runs[0]
    assert run.info.run_id == result.run_id, "expected result.run_id to be the job's run"
    params = run.data.params
    assert params.get("batch_size") == "50" and params.get("num_samples") == "150", (
        f"expected the params batch_size=50 and num_samples=150; found {params}"
    )
    metrics = run.data.metrics
    calls = len(own_llm_env.chat_requests)
    assert metrics.get("llm_calls") == calls, (
        f"expected the metric llm_calls to be the number of model calls ({calls}); found "
        f"{metrics.get('llm_calls')}. A counter in the driver does not see the workers' calls: "
        "add up the llm_calls column instead."
    )
    assert metrics.get("accuracy") == 1.0, (
        f"expected accuracy 1.0 (the fake model is always right); found {metrics.get('accuracy')}"
    )
    duration, throughput = metrics.get("duration_s", 0), metrics.get("throughput", 0)
    assert duration > 0 and throughput == pytest.approx(150 / duration, rel=0.01), (
        f"expected throughput = rows per second = 150 / duration_s; found throughput="
        f"{throughput}, duration_s={duration}"
    )
    expected = (run.info.run_id, calls, 150, 1.0, duration, throughput)
    carried = tuple(
        getattr(result, name, None)
        for name in ("run_id", "llm_calls", "num_samples", "accuracy", "duration_s", "throughput")
    )
    assert carried[:3] == expected[:3] and carried[3:] == pytest.approx(expected[3:]), (
        f"expected the result to carry the numbers logged to the run (run_id, llm_calls, "
        f"num_samples, accuracy, duration_s, throughput) = {expected}; got {shown(result)}"
    )


def test_accuracy_compares_the_predictions_with_the_labels(exercise, spark, fake_llm_env):
    def always_positive(request):
        return "\n".join(f"{n}. positive" for n, _ in numbered_lines(request.last_user_text))

    fake_llm_env.responder = always_positive
    reviews = generate_reviews(30, seed=2)  # a third of them are positive

    exercise.run_batch_job(spark, reviews, batch_size=10)

    accuracy = all_runs()[0].data.metrics.get("accuracy")
    assert accuracy == pytest.approx(1 / 3), (
        f"expected accuracy 1/3 when the model calls every review positive (a third of them "
        f"are); found {accuracy}. Accuracy is the share of rows whose sentiment equals label."
    )
