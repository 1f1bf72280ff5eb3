"""Checks for ex02_spark_loading: documents loaded and chunked by Spark, counts in a run.

All these tests share one local SparkSession (the ``spark`` fixture); its
first Python UDF takes a few seconds to start.
"""

import shutil
from pathlib import Path

import mlflow
import pytest

from fixtures.data import corpus_dir, load_corpus
from fixtures.messages import shown
from fixtures.runs import all_runs

# Not only ASCII: "length" counts characters, and here characters are not bytes.
EXTRA_TXT = (
    "Plain text notes \u2014 na\u00efve caf\u00e9 jottings.\n"
    "They live in a subfolder and count as a document.\n"
)
CHUNK_COLUMNS = ["chunk_id", "path", "source", "chunk_index", "text"]


@pytest.fixture
def docs_folder(mlflow_store) -> Path:
    """The corpus's markdown files, a .txt in a subfolder, and files to ignore."""
    folder = mlflow_store.folder / "documents"
    folder.mkdir()
    for path in corpus_dir().glob("*"):
        shutil.copy(path, folder / path.name)  # the corpus also holds questions.json
    (folder / "notes").mkdir()
    (folder / "notes" / "extra.txt").write_text(EXTRA_TXT)
    (folder / "notes" / "script.py").write_text("print('not a document')\n")
    return folder


def expected_documents() -> dict[str, str]:
    return {**load_corpus(), "extra.txt": EXTRA_TXT}


def file_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def expected_chunk_count(text: str, size: int, overlap: int) -> int:
    return 0 if not text else 1 + max(0, -(-(len(text) - size) // (size - overlap)))


def spark_frame(value, what: str):
    """``value``, checked to be a Spark DataFrame (classic or Spark Connect)."""
    from pyspark.sql import DataFrame

    assert isinstance(value, DataFrame), (
        f"expected {what} to return a Spark DataFrame; got {shown(value)}"
    )
    return value


def load(exercise, spark, folder: Path):
    return spark_frame(
        exercise.load_documents_with_spark(spark, str(folder)), "load_documents_with_spark"
    )


def chunk(exercise, spark, docs, size: int, overlap: int):
    return spark_frame(
        exercise.chunk_documents_with_spark(spark, docs, size, overlap),
        "chunk_documents_with_spark",
    )


def test_every_md_and_txt_file_under_the_folder_is_one_row(exercise, spark, docs_folder):
    docs = load(exercise, spark, docs_folder)

    found = sorted(file_name(row["path"]) for row in docs.select("path").collect())
    expected = sorted(expected_documents())
    assert found == expected, (
        f"expected one row per .md and .txt file under {docs_folder.name}/, subfolders "
        f"included, and nothing else (no .json, no .py);\nexpected files {expected}\n"
        f"found files    {shown(found, 600)}"
    )


def test_each_row_holds_the_whole_text_of_its_file_and_its_length(exercise, spark, docs_folder):
    docs = load(exercise, spark, docs_folder)

    assert {"path", "text", "length"} <= set(docs.columns), (
        f"expected the columns path, text and length; found {shown(docs.columns)}"
    )
    expected = expected_documents()
    for row in docs.collect():
        name = file_name(row["path"])
        assert row["text"] == expected.get(name), (
            f"expected the text of {name} to be the whole file ({len(expected.get(name, ''))} "
            f"characters); found {len(row['text'] or '')} characters starting "
            f"{shown((row['text'] or '')[:60])}. Read each file as one value (whole text), "
            "not line by line."
        )
        assert row["length"] == len(expected[name]), (
            f"expected length {len(expected[name])} for {name}: its number of characters "
            f"(not bytes: the file is UTF-8 and not only ASCII); found {shown(row['length'])}"
        )


def test_chunks_cover_every_document_with_the_given_size_and_overlap(exercise, spark, docs_folder):
    docs = load(exercise, spark, docs_folder)
    chunks = chunk(exercise, spark, docs, 300, 40)

    assert chunks.columns == CHUNK_COLUMNS, (
        f"expected the chunk columns {CHUNK_COLUMNS}, in that order; found {shown(chunks.columns)}"
    )
    by_source: dict[str, list] = {}
    for row in chunks.collect():
        by_source.setdefault(row["source"], []).append(row)
    expected = expected_documents()
    assert sorted(by_source) == sorted(expected), (
        f"expected the sources (file names) {sorted(expected)}; "
        f"found {shown(sorted(by_source, key=str), 600)}"
    )
    for source, rows in by_source.items():
        rows.sort(key=lambda r: r["chunk_index"])
        text = expected[source]
        indexes = [r["chunk_index"] for r in rows]
        want = expected_chunk_count(text, 300, 40)
        assert indexes == list(range(want)), (
            f"expected {source} ({len(text)} characters) to give chunks 0..{want - 1} with "
            f"chunk_size=300, chunk_overlap=40; found chunk_index values {shown(indexes)}"
        )
        starts = [i * (300 - 40) for i in indexes]
        wrong = [
            i for i, r in zip(indexes, rows, strict=True) if r["text"] != text[starts[i] :][:300]
        ]
        assert not wrong, (
            f"expected chunk i of {source} to be its 300 characters from position i * (300 - 40); "
            f"chunks {wrong} differ (chunk {wrong[0]} is {shown(rows[wrong[0]]['text'], 80)})"
        )


def test_chunk_ids_are_unique_and_do_not_depend_on_the_other_documents(
    exercise, spark, docs_folder
):
    docs = load(exercise, spark, docs_folder)
    chunks = chunk(exercise, spark, docs, 400, 50)
    rows = chunks.select("chunk_id", "source", "chunk_index").collect()
    ids = [r["chunk_id"] for r in rows]
    assert len(ids) == len(set(ids)), (
        f"expected every chunk_id to be unique; {len(ids) - len(set(ids))} of {len(ids)} repeat"
    )

    last = max(r["source"] for r in rows)
    alone = chunk(exercise, spark, docs.filter(docs["path"].endswith("/" + last)), 400, 50)
    ids_alone = {(r["chunk_index"], r["chunk_id"]) for r in alone.collect()}
    ids_together = {(r["chunk_index"], r["chunk_id"]) for r in rows if r["source"] == last}
    assert ids_alone == ids_together, (
        f"expected the chunks of {last} to get the same ids whether it is chunked alone or "
        f"with the other documents (stable ids come from the path and the position, not "
        f"from a row counter);\nwith the others: {shown(sorted(ids_together, key=str)[:3])}...\n"
        f"alone:           {shown(sorted(ids_alone, key=str)[:3])}..."
    )


def test_bad_chunk_arguments_fail_on_the_driver_with_a_value_error(exercise, spark, docs_folder):
    docs = load(exercise, spark, docs_folder)

    try:
        exercise.chunk_documents_with_spark(spark, docs, chunk_size=100, chunk_overlap=100)
    except ValueError as err:
        assert "chunk_overlap" in str(err), (
            f"expected the ValueError to name chunk_overlap; its message was {shown(str(err))}"
        )
    else:
        pytest.fail(
            "expected ValueError from chunk_documents_with_spark(..., chunk_size=100, "
            "chunk_overlap=100) at once: Spark is lazy, so a UDF would only fail later, on an "
            "executor, when the chunks are used. Check the arguments on the driver first.",
            pytrace=False,
        )


def test_ingest_logs_params_and_counts_to_a_new_run(exercise, spark, docs_folder):
    exercise.ingest_documents(spark, str(docs_folder), chunk_size=500, chunk_overlap=50)

    runs = all_runs()
    assert len(runs) == 1, f"expected ingest_documents to log to one run; found {len(runs)} runs"
    run = runs[0]
    assert mlflow.active_run() is None, "expected ingest_documents to end the run it started"
    assert run.info.run_name == "ingest", (
        f"expected the new run to be named 'ingest'; found {run.info.run_name!r}"
    )
    params = run.data.params
    expected_params = {"docs_path": str(docs_folder), "chunk_size": "500", "chunk_overlap": "50"}
    missing = {k: v for k, v in expected_params.items() if params.get(k) != v}
    assert not missing, f"expected the params {expected_params}; found {params}"

    documents = expected_documents()
    expected = {
        "num_documents": len(documents),
        "num_chunks": sum(expected_chunk_count(t, 500, 50) for t in documents.values()),
        "total_characters": sum(len(t) for t in documents.values()),
    }
    found = {k: run.data.metrics.get(k) for k in expected}
    assert found == expected, (
        f"expected the metrics {expected} (total_characters: the sum of the documents' "
        f"lengths, in characters); found {run.data.metrics}"
    )


def test_ingest_returns_the_chunks_cached_for_the_later_steps(exercise, spark, docs_folder):
    from pyspark import StorageLevel

    chunks = spark_frame(
        exercise.ingest_documents(spark, str(docs_folder), chunk_size=500, chunk_overlap=50),
        "ingest_documents",
    )

    assert chunks.columns == CHUNK_COLUMNS, (
        f"expected ingest_documents to return the chunks, with the columns {CHUNK_COLUMNS}; "
        f"found the columns {shown(chunks.columns)}"
    )
    level = chunks.storageLevel
    assert level != StorageLevel.NONE, (
        "expected the returned chunks DataFrame to be cached (chunks.cache(), or persist), so "
        f"that counting them and indexing them later does not chunk again; its storage level "
        f"is {shown(level)}"
    )
    want = sum(expected_chunk_count(t, 500, 50) for t in expected_documents().values())
    found = chunks.count()
    assert found == want, (
        f"expected ingest_documents to return the {want} chunks; it returned {found} rows"
    )
    chunks.unpersist()


def test_ingest_logs_into_the_run_that_is_already_active(exercise, spark, docs_folder):
    with mlflow.start_run(run_name="pipeline") as outer:
        exercise.ingest_documents(spark, str(docs_folder), chunk_size=800, chunk_overlap=0)
        still_active = mlflow.active_run()

    assert still_active is not None and still_active.info.run_id == outer.info.run_id, (
        "expected ingest_documents to leave the caller's run active"
    )
    runs = all_runs()
    assert [r.info.run_id for r in runs] == [outer.info.run_id], (
        f"expected ingest_documents to log into the active run 'pipeline' and start no run "
        f"of its own; found runs {[r.info.run_name for r in runs]}"
    )
    assert runs[0].data.metrics.get("num_documents") == len(expected_documents()), (
        f"expected num_documents={len(expected_documents())} on the active run; found "
        f"metrics {runs[0].data.metrics}"
    )
