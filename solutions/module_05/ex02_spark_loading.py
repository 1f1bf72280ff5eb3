"""Reference solution for module_05/ex02_spark_loading: load and chunk documents with Spark."""

from __future__ import annotations

import mlflow
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

DOCUMENT_GLOB = "*.{md,txt}"
CHUNK_COLUMNS = ["chunk_id", "path", "source", "chunk_index", "text"]


def chunk_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Your ``chunk_text`` from exercise 1, unchanged (copy it in).

    Chunks of ``chunk_size`` characters, neighbours sharing ``chunk_overlap``
    characters, the last chunk the first one that reaches the end of the text;
    ``ValueError`` when ``chunk_size`` is not positive, ``chunk_overlap`` is
    negative, or ``chunk_overlap`` is not smaller than ``chunk_size``.
    """
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive; got chunk_size={chunk_size}")
    if chunk_overlap < 0:
        raise ValueError(f"chunk_overlap must not be negative; got chunk_overlap={chunk_overlap}")
    if chunk_overlap >= chunk_size:
        raise ValueError(
            f"chunk_overlap must be smaller than chunk_size; "
            f"got chunk_overlap={chunk_overlap}, chunk_size={chunk_size}"
        )
    step = chunk_size - chunk_overlap
    chunks: list[str] = []
    start = 0
    while start < len(text):
        chunks.append(text[start : start + chunk_size])
        if start + chunk_size >= len(text):
            break
        start += step
    return chunks


def load_documents_with_spark(spark: SparkSession, path: str) -> DataFrame:
    """Read every markdown (``.md``) and text (``.txt``) file under the folder
    ``path``, subfolders included, one row per file; other files are ignored.

    Columns:
        ``path``   (string) where the file is, as Spark reports it (for a local
                   folder a URI such as ``file:/home/me/docs/intro.md``);
        ``text``   (string) the whole content of the file;
        ``length`` (int)    the number of characters of ``text``.
    """
    # wholetext=True gives one row per file instead of one per line;
    # recursiveFileLookup walks the subfolders, pathGlobFilter keeps .md and .txt.
    files = (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", DOCUMENT_GLOB)
        .text(path, wholetext=True)
    )
    # Every file-based source has a hidden _metadata column with the file's path.
    return files.select(
        F.col("_metadata.file_path").alias("path"),
        F.col("value").alias("text"),
        F.length("value").alias("length"),
    )


def chunk_documents_with_spark(
    spark: SparkSession, docs_df: DataFrame, chunk_size: int = 512, chunk_overlap: int = 50
) -> DataFrame:
    """Explode each document of ``docs_df`` (as made by ``load_documents_with_spark``)
    into its chunks, cut by ``chunk_text`` in a Spark UDF.

    Columns, in this order (``CHUNK_COLUMNS``):
        ``chunk_id``    (string) an id that is unique and stable: the same document
                        and position give the same id on every run, whatever other
                        documents are in the DataFrame (build it from the path and
                        the chunk's position, never from a row counter);
        ``path``        (string) the document's path;
        ``source``      (string) the document's file name, e.g. ``intro.md``;
        ``chunk_index`` (int)    the chunk's position in its document, from 0;
        ``text``        (string) the chunk's text.

    Bad ``chunk_size`` / ``chunk_overlap`` raise ``ValueError`` here, on the
    driver, before Spark runs anything.
    """
    chunk_text("", chunk_size, chunk_overlap)  # the same checks, on the driver, at once

    # The UDF runs on the executors; Spark ships chunk_text there with it.
    @F.udf(returnType=T.ArrayType(T.StringType()))
    def cut(text):  # no type hints: PySpark would read them as a pandas UDF's
        return chunk_text(text or "", chunk_size, chunk_overlap)

    return (
        docs_df.select("path", F.posexplode(cut("text")).alias("chunk_index", "text"))
        .withColumn("source", F.element_at(F.split("path", "/"), -1))
        .withColumn("chunk_id", F.concat_ws("#", "path", F.col("chunk_index").cast("string")))
        .select(*CHUNK_COLUMNS)
    )


def ingest_documents(
    spark: SparkSession, path: str, chunk_size: int = 512, chunk_overlap: int = 50
) -> DataFrame:
    """Load and chunk the documents under ``path`` and record it in MLflow.

    Logs to the active run if there is one, else to a new run named ``ingest``
    that is ended before returning:
        params  ``docs_path``, ``chunk_size``, ``chunk_overlap``;
        metrics ``num_documents``, ``num_chunks``, ``total_characters`` (the
                sum of the documents' lengths).

    Returns:
        The chunks DataFrame (columns ``CHUNK_COLUMNS``), cached, so that later
        steps do not chunk again.
    """
    docs = load_documents_with_spark(spark, path)
    chunks = chunk_documents_with_spark(spark, docs, chunk_size, chunk_overlap).cache()
    # Small aggregates: only the numbers come back to the driver.
    totals = docs.agg(F.count("*").alias("n"), F.sum("length").alias("chars")).first()
    counts = {
        "num_documents": totals["n"],
        "num_chunks": chunks.count(),
        "total_characters": totals["chars"] or 0,
    }
    params = {"docs_path": path, "chunk_size": chunk_size, "chunk_overlap": chunk_overlap}

    if mlflow.active_run() is not None:
        mlflow.log_params(params)
        mlflow.log_metrics(counts)
    else:
        with mlflow.start_run(run_name="ingest"):
            mlflow.log_params(params)
            mlflow.log_metrics(counts)
    return chunks
