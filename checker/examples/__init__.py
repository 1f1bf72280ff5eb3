"""The learning plan's runnable examples, behind the project's console scripts.

Each runs reference solutions against a local store (``./mlflow.db`` unless
``MLFLOW_TRACKING_URI`` says otherwise) and prints how to open the MLflow UI
on what it logged. Only the standard library is imported at module level:
MLflow, Spark and the LLM clients load when an example actually runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from checker.manifest import KataPaths

DEFAULT_URI = "sqlite:///mlflow.db"


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
