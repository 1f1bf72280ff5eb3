"""Put MLflow and the environment back to a clean state around each test.

MLflow keeps process-wide state: the tracking and registry URIs, the active
run, experiment and model, the tracer provider, autolog patches. A test that
leaves any of it behind would leak into the next one, so we reset all of it.
Only modules that are already imported are touched: resetting must never
import a heavy library.
"""

import contextlib
import importlib.util
import logging
import os
import queue
import sys
import threading
from pathlib import Path
from typing import Any

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
    # In a uv project MLflow copies uv.lock and pyproject.toml into every
    # logged model: slow, and nothing a test looks at.
    "MLFLOW_LOG_UV_FILES": "false",
    # litellm (installed with dspy) fetches its price list from GitHub when first
    # imported unless told to use the copy it ships.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
}


def _tiktoken_cache() -> str | None:
    """The tiktoken encodings that llama-index-core ships (found without importing it).

    tiktoken downloads its encodings on first use unless TIKTOKEN_CACHE_DIR
    points at a folder that already has them.
    """
    try:
        spec = importlib.util.find_spec("llama_index.core")
    except ModuleNotFoundError:
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        cache = Path(folder) / "_static" / "tiktoken_cache"
        if cache.is_dir():
            return str(cache)
    return None


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
    hide_litellm()
    cache = _tiktoken_cache()
    if cache:
        os.environ["TIKTOKEN_CACHE_DIR"] = cache


# litellm comes with dspy. Importing it takes about 4 s, and MLflow imports it whenever
# it can: at `import mlflow.genai.evaluation` and to price every LLM span. A test
# that is not about DSPy sees MLflow as it is without dspy installed (the kit's
# price table then decides costs); a DSPy test asks for litellm with the kit's
# `litellm` fixture, and it is hidden again after that test.
_litellm_module = None


def hide_litellm() -> None:
    """Make ``import litellm`` fail in this process, as if it were not installed."""
    global _litellm_module
    loaded = sys.modules.get("litellm")
    if loaded is not None:
        _litellm_module = loaded
    sys.modules["litellm"] = None  # type: ignore[assignment] # the import system's "not here"


def allow_litellm() -> None:
    """Undo ``hide_litellm``: the next ``import litellm`` imports (or finds) it."""
    if _litellm_module is not None:
        sys.modules["litellm"] = _litellm_module
    elif sys.modules.get("litellm", True) is None:
        del sys.modules["litellm"]


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
    """Forget everything MLflow remembers between calls in this process.

    litellm stays as it is: a test that asked for it (the ``litellm`` fixture) may
    build a snapshot, which resets MLflow in the middle of that test.
    """
    if "mlflow" not in sys.modules:
        return
    import mlflow
    from mlflow.tracking import _model_registry, _tracking_service, fluent

    poll_the_trace_queue_quickly()
    share_the_default_ssl_context()
    with contextlib.suppress(Exception):  # nothing was queued
        mlflow.flush_trace_async_logging()
    wait_for_mlflow_threads()  # background threads that write to this test's store
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
    _forget_last_ids()
    _reset_autolog()
    mlflow.tracing.reset()
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    InMemoryTraceManager.reset()
    forget_price_catalog()
    _reset_llama_index_settings()
    _reset_dspy()
    _reset_agent_server()


# MLflow's asynchronous trace export: a consumer thread takes each trace from a queue
# as soon as it is put there, and otherwise waits on the queue for up to 1 s at a time;
# a flush (mlflow.flush_trace_async_logging, the kit's reset, the flush at exit) stops
# the consumer and waits for that wait to end: up to a second per flush. In tests the
# consumer looks again every 50 ms instead; what it exports, and when, is unchanged.
TRACE_QUEUE_POLL = 0.05


class _QuickPollQueue(queue.Queue):
    def get(self, block=True, timeout=None):
        if timeout is not None:
            timeout = min(timeout, TRACE_QUEUE_POLL)
        return super().get(block, timeout)


def poll_the_trace_queue_quickly() -> None:
    """Trace export queues made from now on wait at most ``TRACE_QUEUE_POLL`` at a time."""
    from mlflow.tracing.export import async_export_queue

    async_export_queue.Queue = _QuickPollQueue


# Every httpx client (so every OpenAI client, ChatOpenAI, FastAPI TestClient...) builds
# a new SSL context and reads a whole CA bundle into it: 20-25 ms per client, dozens per
# test file, although tests only speak plain http to 127.0.0.1. In tests a context with
# the default settings (verify=True, no client certificate) is built once per CA
# source ($SSL_CERT_FILE, $SSL_CERT_DIR or certifi's) and shared, as an SSLContext may
# be; other settings get their own, as before.
_SSL_CONTEXTS: dict = {}  # by CA source


def share_the_default_ssl_context() -> None:
    """httpx clients made from now on share their default SSL context (if httpx is
    imported: a reset never imports it)."""
    config: Any = sys.modules.get("httpx._config")
    transports: Any = sys.modules.get("httpx._transports.default")
    if config is None or transports is None or hasattr(config.create_ssl_context, "shared"):
        return
    original = config.create_ssl_context

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        sources = ("SSL_CERT_FILE", "SSL_CERT_DIR")
        key = tuple(os.environ.get(name) for name in sources) if trust_env else None
        if key not in _SSL_CONTEXTS:
            _SSL_CONTEXTS[key] = original(trust_env=trust_env)
        return _SSL_CONTEXTS[key]

    create_ssl_context.shared = True  # type: ignore[attr-defined]
    config.create_ssl_context = create_ssl_context
    transports.create_ssl_context = create_ssl_context


# MLflow's background threads that write to the store after the call that started
# them returned: ``load_prompt`` links a prompt version to the active model, and the
# trace exporter links prompts to the trace (mlflow/tracking/_model_registry/fluent.py,
# mlflow/tracing/export/utils.py).
_MLFLOW_WRITER_THREADS = ("link_prompt_thread-", "link_prompts_from_exporter-")


def wait_for_mlflow_threads(timeout: float = 10.0) -> None:
    """Join MLflow's background threads that still write to the store."""
    for thread in threading.enumerate():
        if thread.name.startswith(_MLFLOW_WRITER_THREADS):
            thread.join(timeout)


def _forget_last_ids() -> None:
    """``get_last_active_trace_id``, ``last_active_run`` and ``last_logged_model``
    must not answer with what an earlier test did (MLflow's own tests reset these)."""
    from mlflow.tracing import fluent as tracing_fluent
    from mlflow.tracking import fluent

    tracing_fluent._set_last_active_trace_id(None)
    fluent._last_active_run_id.set(None)
    fluent._last_logged_model_id.set(None)


def _reset_llama_index_settings() -> None:
    """LlamaIndex keeps its LLM, embedding model and splitter in a global ``Settings``."""
    settings = sys.modules.get("llama_index.core.settings")
    if settings is not None:
        import dataclasses

        for field in dataclasses.fields(settings.Settings):
            setattr(settings.Settings, field.name, field.default)


def _reset_dspy() -> None:
    """DSPy keeps its LM, adapter and callbacks (``mlflow.dspy.autolog`` adds one) in
    the process-wide ``dspy.settings``, and earlier answers in a memory cache."""
    dspy = sys.modules.get("dspy")
    if dspy is None:
        return
    dspy.settings.configure(lm=None, adapter=None, callbacks=[], track_usage=False)
    cache = vars(dspy).get("cache")  # built on first use: never build it here
    if cache is not None:
        cache.reset_memory_cache()


def _reset_agent_server() -> None:
    """``mlflow.genai.agent_server`` keeps the ``@invoke()`` / ``@stream()`` functions in
    module globals, once per process (a second registration raises ValueError)."""
    server = sys.modules.get("mlflow.genai.agent_server.server")
    if server is not None:
        setattr(server, "_invoke_function", None)  # noqa: B010 - a module's private global
        setattr(server, "_stream_function", None)  # noqa: B010


def forget_price_catalog() -> None:
    """A price table read from MLFLOW_MODEL_CATALOG_URI is cached for an hour."""
    providers = sys.modules.get("mlflow.utils.providers")
    if providers is not None:
        setattr(providers, "_remote_cache", None)  # noqa: B010 - a module's private global


def leftovers() -> list[str]:
    """What a test left open: active runs and unfinished spans, in plain words."""
    if "mlflow" not in sys.modules:
        return []
    import mlflow
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    found = []
    run = mlflow.active_run()
    if run is not None:
        found.append(
            f"the run {run.info.run_id} is still active: end it, or use "
            "`with mlflow.start_run():` so it ends even when an exception is raised"
        )
    manager = InMemoryTraceManager.get_instance()
    with manager._lock:
        traces = list(manager._traces.values())
    for trace in traces:
        open_spans = [s.name for s in trace.span_dict.values() if s.end_time_ns is None]
        if open_spans:
            found.append(
                f"the trace {trace.info.trace_id} has spans that never ended: "
                f"{', '.join(repr(n) for n in open_spans)}; end every span you start "
                "(`with mlflow.start_span(...)` ends it for you)"
            )
    return found


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


def restore_environment(saved: dict[str, str]) -> None:
    """Put ``os.environ`` back to ``saved``: code under test may set variables
    (``MLFLOW_ENABLE_ASYNC_TRACE_LOGGING``, ``OPENAI_API_KEY`` ...) that must not
    reach the next test."""
    for name in [n for n in os.environ if n not in saved]:
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
