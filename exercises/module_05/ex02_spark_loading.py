"""Exercise 2: load and chunk documents with Spark, and record the counts in MLflow.

A few documents fit in a Python loop; a few million do not. Spark reads files
in parallel and runs your Python code on every row with a UDF (user-defined
function), on your laptop (``local[*]``) or on a cluster, with the same code.
That is why every function here takes the ``SparkSession`` as a parameter
instead of creating one: the caller decides where Spark runs (the tests share
one local session).

Build:

1. ``chunk_text``: copy in your function from exercise 1.
2. ``load_documents_with_spark(spark, path)``: one row per ``.md`` and ``.txt``
   file under a folder (subfolders too), with its path, whole text and length.
3. ``chunk_documents_with_spark(spark, docs_df, chunk_size, chunk_overlap)``: a
   UDF cuts each text with ``chunk_text``; explode the result into one row per
   chunk, each with a stable ``chunk_id``.
4. ``ingest_documents(spark, path, chunk_size, chunk_overlap)``: both steps,
   with the params and the counts logged to an MLflow run.

Spark APIs practised: ``spark.read.text(..., wholetext=True)`` with the options
``recursiveFileLookup`` and ``pathGlobFilter``, the hidden ``_metadata.file_path``
column, ``pyspark.sql.functions.udf``, ``posexplode``, ``concat_ws``, ``cache``.
MLflow APIs practised: ``mlflow.active_run``, ``mlflow.start_run``,
``mlflow.log_params``, ``mlflow.log_metrics``.

Done looks like this: ``ingest_documents(spark, "documents")`` returns a
DataFrame of chunks, and the MLflow UI shows a run ``ingest`` with the params
``docs_path``, ``chunk_size``, ``chunk_overlap`` and the metrics
``num_documents``, ``num_chunks``, ``total_characters``.

Run the checks: ``uv run pytest exercises/module_05/test_ex02_spark_loading.py``
(the first Spark test waits a few seconds for Spark to start).
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need it
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: F401 - col, length, udf, posexplode, ...
from pyspark.sql import types as T  # noqa: F401 - ArrayType, StringType for the UDF

DOCUMENT_GLOB = "*.{md,txt}"
CHUNK_COLUMNS = ["chunk_id", "path", "source", "chunk_index", "text"]


def chunk_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Your ``chunk_text`` from exercise 1, unchanged (copy it in).

    Chunks of ``chunk_size`` characters, neighbours sharing ``chunk_overlap``
    characters, the last chunk the first one that reaches the end of the text;
    ``ValueError`` when ``chunk_size`` is not positive, ``chunk_overlap`` is
    negative, or ``chunk_overlap`` is not smaller than ``chunk_size``.
    """
    # TODO: paste the body of your chunk_text from ex01_chunking.py.
    raise NotImplementedError("chunk_text: copy it in from exercise 1")


def load_documents_with_spark(spark: SparkSession, path: str) -> DataFrame:
    """Read every markdown (``.md``) and text (``.txt``) file under the folder
    ``path``, subfolders included, one row per file; other files are ignored.

    Columns:
        ``path``   (string) where the file is, as Spark reports it (for a local
                   folder a URI such as ``file:/home/me/docs/intro.md``);
        ``text``   (string) the whole content of the file;
        ``length`` (int)    the number of characters of ``text``.
    """
    # TODO: spark.read with the options recursiveFileLookup and pathGlobFilter (DOCUMENT_GLOB),
    #       .text(path, wholetext=True); select _metadata.file_path as path, value as text,
    #       and its length.
    raise NotImplementedError("load_documents_with_spark: not written yet (see the TODO above)")


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
    # TODO: check the arguments on the driver (chunk_text can do it for you); define a UDF
    #       returning ArrayType(StringType()) that calls chunk_text; posexplode its result
    #       into chunk_index and text; add source (the last part of path) and chunk_id;
    #       select CHUNK_COLUMNS.
    raise NotImplementedError("chunk_documents_with_spark: not written yet (see the TODO above)")


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
    # TODO: load, chunk (and cache) the chunks; count documents, chunks and characters;
    #       log params and metrics to mlflow.active_run() if there is one, else inside
    #       `with mlflow.start_run(run_name="ingest"):`. Return the chunks.
    raise NotImplementedError("ingest_documents: not written yet (see the TODO above)")
