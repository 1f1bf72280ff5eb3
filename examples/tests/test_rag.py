"""The plan's RAG commands: `uv run mlflow-sample-documents` and
`uv run mlflow-spark-llamaindex-rag`, run in-process in the test's temp folder.

They run the reference solutions of Module 5 with the shared SparkSession
(the command reuses an active session and leaves it running).
"""

from pathlib import Path

from examples import rag
from fixtures.data import load_corpus, load_questions
from fixtures.runs import all_runs
from fixtures.traces import search_traces


def test_sample_documents_writes_the_corpus_to_documents(mlflow_store, capsys):
    assert rag.sample_documents([]) == 0

    written = sorted(p.name for p in (mlflow_store.folder / "documents").glob("*"))
    assert written == sorted(load_corpus()), f"expected the corpus in ./documents; found {written}"
    assert "mlflow-spark-llamaindex-rag" in capsys.readouterr().out


def test_a_missing_documents_folder_is_a_clear_error(mlflow_store, capsys):
    assert rag.main(["--docs-path", "nowhere"]) == 2

    assert "mlflow-sample-documents" in capsys.readouterr().err


def test_the_mock_pipeline_runs_end_to_end_and_prints_its_metrics(spark, mlflow_store, capsys):
    code = rag.main(["--llm-type", "mock", "--create-sample-docs"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert spark.range(1).count() == 1, "the command stopped a SparkSession it did not start"
    assert "[3/3]" in out and "source_retrieval_rate" in out and "mlflow ui" in out, out
    runs = all_runs()
    assert [r.info.run_name for r in runs] == ["rag-mock"], [r.info.run_name for r in runs]
    metrics = runs[0].data.metrics
    questions = load_questions()
    assert metrics["source_retrieval_rate"] == 1.0, metrics
    assert metrics["num_documents"] == len(load_corpus()), metrics
    assert metrics["num_questions"] == len(questions), metrics
    assert runs[0].data.params["llm_type"] == "mock"
    retrievals = search_traces(filter_string="span.type = 'RETRIEVER'")
    assert len(retrievals) == len(questions), f"expected one traced query per question: {out}"


def test_the_ollama_pipeline_talks_to_the_server_in_ollama_host(spark, fake_llm_env, capsys):
    rag.sample_documents(["--output", "docs"])
    fake_llm_env.responder = lambda request: "An answer from Ollama."

    code = rag.main(["--llm-type", "ollama", "--ollama-model", "llama3.2", "--docs-path", "docs"])

    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    chats = [r for r in fake_llm_env.requests if r.path == "/api/chat"]
    assert len(chats) == len(load_questions()), [r.path for r in fake_llm_env.requests]
    assert {r.body["model"] for r in chats} == {"llama3.2"}
    assert any(r.path == "/api/embed" for r in fake_llm_env.requests)
    assert "An answer from Ollama." in out.out
    assert Path("docs").is_dir()


def test_the_sweep_records_a_child_run_per_configuration_and_the_best(spark, mlflow_store, capsys):
    code = rag.main(
        ["--create-sample-docs", "--sweep", "--sweep-sizes", "256,1024", "--sweep-overlaps", "0"]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    runs = {r.info.run_name: r for r in all_runs()}
    parent = runs.pop("chunking-sweep")
    assert sorted(runs) == ["size=1024 overlap=0", "size=256 overlap=0"], sorted(runs)
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in runs.values())
    assert all(r.data.metrics["num_chunks"] > 0 for r in runs.values())
    assert parent.data.params["best_chunk_size"] in ("256", "1024")
    assert "Best: chunk_size=" in out
    assert search_traces(filter_string="span.type = 'RETRIEVER'") == []
