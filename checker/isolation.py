"""Put MLflow and the environment back to a clean state around each test.

MLflow keeps process-wide state: the tracking and registry URIs, the active
run, experiment and model, the tracer provider, autolog patches. A test that
leaves any of it behind would leak into the next one, so we reset all of it.
Only modules that are already imported are touched: resetting must never
import a heavy library.
"""

import contextlib
import logging
import os
import sys

# Safe, offline defaults for every test process.
TEST_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    # Traces are exported synchronously, so a test can read them right away.
    # A test about async logging turns it back on with monkeypatch.setenv.
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false",
    # A key that looks real enough for client libraries; it never leaves
    # the machine because of the network guard.
    "OPENAI_API_KEY": "sk-kata-fake-key-not-real",
    "GIT_PYTHON_REFRESH": "quiet",
    "SPARK_LOCAL_IP": "127.0.0.1",
    "PYSPARK_PYTHON": sys.executable,
    "PYSPARK_DRIVER_PYTHON": sys.executable,
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # Tiny models train 4x faster on one BLAS thread than on several
    # (thread start-up dominates), and test workers already share the cores.
    # Read when numpy is first imported, which is after this is set.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    # Spans with token usage and a model name make MLflow fetch a price list
    # from github.com to compute costs; an empty catalog URI keeps it offline.
    "MLFLOW_MODEL_CATALOG_URI": "",
    # The fake LLM servers listen on loopback: never send them to a proxy.
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

# Real credentials and endpoints that must not reach a test.
REMOVED_ENV = [
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "OPENAI_ORGANIZATION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "MISTRAL_API_KEY",
    "COHERE_API_KEY",
    "GROQ_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "OLLAMA_HOST",
    "DATABRICKS_HOST",
    "DATABRICKS_TOKEN",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_ACTIVE_MODEL_ID",
    "MLFLOW_RUN_ID",
    "SPARK_REMOTE",
]


def apply_test_env() -> None:
    """Set the offline defaults in this process (called once per session)."""
    for name in REMOVED_ENV:
        os.environ.pop(name, None)
    os.environ.update(TEST_ENV)


def give_main_module_a_file() -> None:
    """Stop PySpark from exiting a pytest-xdist worker.

    MLflow's signature inference imports ``pyspark.sql.connect``, whose
    ``check_dependencies`` calls ``sys.exit(0)`` when ``__main__`` has neither
    a spec nor a file ("we must be running doctests"). An xdist worker's
    ``__main__`` is exactly that, so we give it a file name.
    """
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
        main.__file__ = "<pytest worker>"


def reset_mlflow_state() -> None:
    """Forget everything MLflow remembers between calls in this process."""
    if "mlflow" not in sys.modules:
        return
    import mlflow
    from mlflow.tracking import _model_registry, _tracking_service, fluent

    with contextlib.suppress(Exception):  # nothing was queued
        mlflow.flush_trace_async_logging()
    _end_active_runs()
    fluent_logger = logging.getLogger("mlflow.tracking.fluent")
    level = fluent_logger.level
    fluent_logger.setLevel(logging.WARNING)  # "Active model is cleared" is noise here
    try:
        mlflow.clear_active_model()
    finally:
        fluent_logger.setLevel(level)
    # MLflow has no public "unset" for these; a test must not inherit them.
    fluent._active_experiment_id = None
    _tracking_service.utils._tracking_uri = None
    _model_registry.utils._registry_uri = None
    _reset_autolog()
    mlflow.tracing.reset()
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    InMemoryTraceManager.reset()


def _end_active_runs() -> None:
    import mlflow
    from mlflow.tracking import fluent

    while mlflow.active_run() is not None:
        try:
            mlflow.end_run()
        except Exception:  # noqa: BLE001 - e.g. the run's store is gone or was switched
            fluent._active_run_stack.set([])


def _reset_autolog() -> None:
    from mlflow.utils.autologging_utils import AUTOLOGGING_INTEGRATIONS
    from mlflow.utils.autologging_utils.safety import _AUTOLOGGING_PATCHES, revert_patches

    for integration in list(_AUTOLOGGING_PATCHES):
        revert_patches(integration)
    AUTOLOGGING_INTEGRATIONS.clear()
    # LlamaIndex tracing is a handler on LlamaIndex's dispatcher, not a patch.
    if "mlflow.llama_index.tracer" in sys.modules:
        from mlflow.llama_index.tracer import remove_llama_index_tracer

        remove_llama_index_tracer()
