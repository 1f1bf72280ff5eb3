"""The learning plan's runnable examples, behind the project's console scripts.

Each runs reference solutions against a local store (``./mlflow.db`` unless
``MLFLOW_TRACKING_URI`` says otherwise) and prints how to open the MLflow UI
on what it logged. Only the standard library is imported at module level:
MLflow, Spark and the LLM clients load when an example actually runs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from checker.manifest import KataPaths

DEFAULT_URI = "sqlite:///mlflow.db"


def how_to_look(uri: str, experiment_id: str | None = None) -> list[str]:
    """The lines that tell the learner where to see what an example logged to ``uri``.

    A tracking server is already a UI: open it. A local store needs ``mlflow ui``.
    """
    page = f"/#/experiments/{experiment_id}" if experiment_id else ""
    if uri.startswith(("http://", "https://")):
        return [
            "Open the tracking server's UI to look at it:",
            f"  {uri.rstrip('/')}{page}",
        ]
    return [
        "Open the MLflow UI to look at it:",
        f"  uv run mlflow ui --backend-store-uri {uri}",
        f"then browse to http://127.0.0.1:5000{page}",
    ]


def load_solution(relative: str) -> ModuleType:
    """Import ``solutions/<relative>`` by path (solutions/ is not a package)."""
    path = KataPaths.default().solutions / relative
    name = f"kata_example_{Path(relative).parent.name}_{Path(relative).stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def spark_session(app_name: str, quick_start: bool = True) -> Iterator[Any]:
    """The active SparkSession, or a local one started (and stopped) here.

    With ``SPARK_REMOTE`` set (``sc://host:port/;token=...``), it is a Spark Connect
    client of that server, left running for others when the command ends. Otherwise the
    session is ``local[*]`` on loopback, and its Python workers run this very
    interpreter (the one with MLflow and the LLM clients): they read
    ``PYSPARK_PYTHON``, not the ``spark.pyspark.python`` setting. ``quick_start``
    starts the JVM with the kit's quick-start options (about a third less CPU for
    a short run); leave it off to measure throughput.
    """
    from pyspark.sql import SparkSession

    from fixtures.spark import QUICK_START_JVM

    remote = os.environ.get("SPARK_REMOTE")
    if remote:  # Spark Connect: a client of a server that outlives this command
        yield SparkSession.builder.remote(remote).getOrCreate()
        return
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName(app_name)
        .master("local[*]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
    )
    if quick_start:
        builder = builder.config("spark.driver.extraJavaOptions", QUICK_START_JVM)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
