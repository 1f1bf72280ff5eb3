"""What a process that forks imports first, so that none of its children has to.

The warm worker of ``kata watch`` (``checker.warm``) and the lessons' snippet runner
(``checker.snippets``) fork a child per check or per snippet. A module the parent has
imported is there in every child for free; one the child imports costs it the full
import, every time. MLflow imports much of what it uses on first use: its SQL stores
alone (SQLAlchemy's models and mappers) take 1.4 s, paid by every child that opens a
store. Each entry below was measured (a child's ``sys.modules`` diffed before and after
one check or snippet).
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import threading
from collections.abc import Callable

MLFLOW_ON_FIRST_USE = [
    "mlflow",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.tracing.fluent",
    "mlflow.genai",
    "git",  # GitPython: MLflow records the commit of the code it runs
    "sqlalchemy.dialects.sqlite",
    "alembic.command",
    "opentelemetry.sdk.metrics",
    "pydantic.v1",
    "langchain_core.messages",
    "mlflow.pyfunc",
    "mlflow.types.responses",
    "mlflow.tracing.export.mlflow_v3",
    "mlflow.tracing.processor.mlflow_v3",
    "mlflow.tracing.processor.otel",
    "mlflow.store.tracking.sqlalchemy_workspace_store",
    # MLflow imports these (1.5 s) the first time a span's inputs or outputs hold an
    # object that JSON cannot encode (mlflow/tracing/utils: _is_safe_to_encode_str).
    "llama_index.core.base.response.schema",
    "llama_index.core.chat_engine.types",
    # mlflow.genai.evaluate imports the Databricks SDK before each run (0.7 s; its
    # harness: _warmup_databricks_sdk), even offline.
    "databricks.sdk",
    # The first httpx client imports its transport (httpcore, h11, h2), the first
    # OpenAI client its resources (0.4 s): fake LLM servers, ChatOpenAI, TestClient.
    "httpcore",
    "h2.connection",
    "openai.resources",
]

# What a library imports the first time it is used, imported with it when the code to
# run (an exercise's tests and solution, a lesson's snippets) imports the library
# (0.6-4 s each otherwise).
IMPORTED_ON_FIRST_USE = {
    # mlflow.sklearn's save_model imports skops, which imports every sklearn module.
    "sklearn": ["skops.io"],
}


# CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion depth
# mismatch"), and `kata check module_NN` asks from two threads.
_PARSING = threading.Lock()


def parse(source: str) -> ast.Module:
    """``ast.parse``, one thread at a time (raises SyntaxError)."""
    with _PARSING:
        return ast.parse(source)


def imported_by(source: str, nested: bool = True) -> list[str]:
    """The modules ``source`` imports by absolute name, in order (none if it does not
    parse); with ``nested=False`` only its top-level imports, not those in functions."""
    try:
        tree = parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree) if nested else tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return list(dict.fromkeys(names))


def first_uses(modules: list[str]) -> list[str]:
    """What the libraries that ``modules`` name import on their first use."""
    found: list[str] = []
    for library, companions in IMPORTED_ON_FIRST_USE.items():
        if any(name == library or name.startswith(library + ".") for name in modules):
            found += companions
    return found


def import_quietly(
    modules: list[str], import_one: Callable[[str], object] = importlib.import_module
) -> None:
    """Import ``modules`` (one that fails to import is left out), then hide everything
    imported so far from the garbage collector: the children then neither scan nor
    copy-on-write these objects (3x faster checks)."""
    for name in modules:
        with contextlib.suppress(Exception):
            import_one(name)
    gc.freeze()
