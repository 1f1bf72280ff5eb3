"""`uv run mlflow-spark-langchain-ollama`: reviews labelled in Spark, one trace per review."""

import pytest

from examples.sentiment import PREDICTIONS_FILE, REVIEW_SPAN, main
from fixtures.runs import all_runs
from fixtures.sentiment import sentiment_responder
from fixtures.traces import assert_child_of, find_span, root_span, search_traces, span_tree


def _the_run():
    runs = all_runs()
    assert len(runs) == 1, f"expected one run; found {len(runs)}"
    return runs[0]


def _check_traces(run, count, model):
    traces = search_traces(run_id=run.info.run_id)
    assert len(traces) == count, f"expected {count} traces linked to the run; found {len(traces)}"
    for trace in traces:
        root = root_span(trace)
        assert root.name == REVIEW_SPAN, span_tree(trace)
        chat = find_span(trace, span_type="CHAT_MODEL")
        assert_child_of(trace, chat, parent_type="CHAIN")
        assert chat.get_attribute("mlflow.llm.model") == model
        assert root.inputs["review"] in str(chat.inputs), "the chat model got the review"
        assert trace.info.token_usage, "the chat model's token usage is on the trace"


def test_the_mock_backend_labels_the_reviews_and_traces_each_one(spark, capsys):
    assert main(["--num-samples", "6", "--experiment", "kata-sentiment"]) == 0

    run = _the_run()
    assert run.data.params["llm_type"] == "mock"
    assert run.data.params["num_samples"] == "6"
    assert run.data.metrics["accuracy"] == 1.0
    assert run.data.metrics["total_predictions"] == 6
    artifacts = [
        a.path for a in __import__("mlflow").MlflowClient().list_artifacts(run.info.run_id)
    ]
    assert PREDICTIONS_FILE in artifacts
    _check_traces(run, 6, "kata-sentiment")
    out = capsys.readouterr().out
    assert "[6/6]" in out, "progress is shown row by row"
    assert "accuracy: 100.00%" in out
    assert "mlflow ui --backend-store-uri" in out, "it says how to open the UI"


def test_the_ollama_backend_reaches_ollama_host(spark, fake_llm_env):
    fake_llm_env.responder = sentiment_responder

    code = main(["--num-samples", "3", "--llm-type", "ollama", "--ollama-model", "llama3.2"])

    assert code == 0
    sent = [(r.path, r.body.get("model")) for r in fake_llm_env.chat_requests]
    assert sent == [("/api/chat", "llama3.2")] * 3, sent
    run = _the_run()
    assert run.data.params["model"] == "llama3.2"
    assert run.data.metrics["accuracy"] == 1.0
    _check_traces(run, 3, "llama3.2")


def test_a_sample_count_below_one_is_refused(capsys):
    assert main(["--num-samples", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--llm-type", "claude"]])
def test_an_unknown_backend_is_refused(bad):
    with pytest.raises(SystemExit):
        main(bad)
