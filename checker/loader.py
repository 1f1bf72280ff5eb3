"""Load the file a test file checks: the learner's stub or the reference solution.

``<root>/exercises/module_01/test_ex01_setup.py`` checks
``<root>/exercises/module_01/ex01_setup.py``, or
``<root>/solutions/module_01/ex01_setup.py`` when pytest runs with
``--solutions``. Paths are worked out from the test file itself, so any kata
tree (the real one, or a throw-away one in the checker's tests) works alike.

Every test gets a fresh import of the file: a module-level ``MlflowClient()``,
a cached experiment id or an ``autolog()`` call then belongs to the test's
own store, exactly as when the learner runs the file by hand.
"""

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

import pytest


def target_file(test_file: Path, solutions: bool) -> Path:
    """The exercise file that ``test_file`` checks."""
    name = test_file.name.removeprefix("test_")
    if solutions:
        module_dir = test_file.parent
        return module_dir.parent.parent / "solutions" / module_dir.name / name
    return test_file.parent / name


def module_name(path: Path) -> str:
    """A unique, importable name, so a stub and its solution never collide."""
    kind = {"solutions": "solution", "exercises": "exercise"}.get(path.parent.parent.name, "other")
    return f"kata_{kind}_{path.parent.name}_{path.stem}"


def load(path: Path) -> ModuleType:
    """Import ``path`` afresh; report a broken file in plain words.

    Call ``unload`` when the test is over.
    """
    name = module_name(path)
    if not path.exists():
        pytest.fail(f"{path} does not exist.", pytrace=False)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        del sys.modules[name]
        pytest.fail(
            f"{path.name} does not parse: {err.msg} (line {err.lineno})\n"
            f"    {(err.text or '').rstrip()}",
            pytrace=False,
        )
    except Exception as err:  # noqa: BLE001 - any import failure is the learner's to see
        del sys.modules[name]
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        pytest.fail(
            f"importing {path.name} failed{where}: {type(err).__name__}: {err}",
            pytrace=False,
        )
    _pickle_by_value(module)
    return module


def unload(module: ModuleType) -> None:
    """Forget ``module``, so the next test imports the file again."""
    if sys.modules.get(module.__name__) is module:
        del sys.modules[module.__name__]


def _pickle_by_value(module: ModuleType) -> None:
    """Let Spark and MLflow ship the file's functions and classes to other processes.

    The file is imported under a made-up name that no worker process can
    import, so cloudpickle (and PySpark's copy of it) must copy the code
    itself instead of a reference to the module.
    """
    picklers = []
    if "mlflow" in sys.modules:  # MLflow pickles python models with cloudpickle
        import cloudpickle

        picklers.append(cloudpickle)
    if "pyspark" in sys.modules:  # PySpark pickles UDFs with its own copy
        import pyspark.cloudpickle

        picklers.append(pyspark.cloudpickle)
    for pickler in picklers:
        pickler.register_pickle_by_value(module)
