"""Load the file a test file checks: the learner's stub or the reference solution.

``exercises/module_01/test_ex01_setup.py`` checks ``exercises/module_01/ex01_setup.py``,
or ``solutions/module_01/ex01_setup.py`` when pytest runs with ``--solutions``.
"""

import importlib.util
import sys
import traceback
from pathlib import Path

import pytest

from checker.paths import EXERCISES, SOLUTIONS


def target_file(test_file: Path, solutions: bool) -> Path:
    """The exercise file that ``test_file`` checks."""
    name = test_file.name.removeprefix("test_")
    module_dir = test_file.parent.name
    if solutions:
        return SOLUTIONS / module_dir / name
    return test_file.parent / name


def module_name(path: Path) -> str:
    """A unique, importable name, so a stub and its solution never collide."""
    if path.is_relative_to(SOLUTIONS):
        kind = "solution"
    elif path.is_relative_to(EXERCISES):
        kind = "exercise"
    else:
        kind = "other"
    return f"kata_{kind}_{path.parent.name}_{path.stem}"


def load(path: Path):
    """Import ``path`` once per process; report a broken file in plain words."""
    name = module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    if not path.exists():
        pytest.fail(f"{path} does not exist.", pytrace=False)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
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
    return module
