"""The frozen clock: traces get its time, and lazily importing packages do not break it."""

import sys
from datetime import UTC, datetime

import mlflow
import pytest

from checker.asserts import last_trace
from fixtures.clock import frozen_clock

NINE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LAZY_INIT = """
__all__ = ["Model"]

def __dir__():
    return __all__

def __getattr__(name):
    if name == "Model":
        from .models import Model
        return Model
    raise AttributeError(name)
"""
MODELS = """
from datetime import datetime
import pydantic

class Model(pydantic.BaseModel):
    at: datetime
"""


@mlflow.trace
def _traced(x):
    return x


def test_traces_made_under_the_frozen_clock_carry_its_time():
    with frozen_clock(NINE) as clock:
        _traced(1)
        first = last_trace().info.timestamp_ms
        clock.tick(60)
        _traced(2)
        second = last_trace().info.timestamp_ms

    assert first == int(NINE.timestamp() * 1000)
    assert second == first + 60_000


@pytest.fixture
def lazy_package(tmp_path, monkeypatch):
    """Make an importable package that imports a pydantic model only when asked."""
    made = []

    def make(name: str) -> None:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "__init__.py").write_text(LAZY_INIT)
        (folder / "models.py").write_text(MODELS)
        made.append(name)
        __import__(name)

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for name in made:
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def test_a_lazily_importing_package_breaks_plain_freezegun(lazy_package):
    from freezegun import freeze_time

    lazy_package("kata_probe_lazy_plain")
    freezer = freeze_time(NINE)
    try:
        with pytest.raises(Exception, match="FakeDatetime"):
            freezer.start()
    finally:
        freezer.stop()  # a start that failed half-way leaves the clock frozen otherwise
    assert datetime.now(UTC) > NINE


def test_frozen_clock_leaves_lazily_importing_packages_alone(lazy_package):
    lazy_package("langchain_kata_probe_lazy")  # named like one of LAZY_PACKAGES

    with frozen_clock(NINE):
        _traced(1)

    assert last_trace().info.timestamp_ms == int(NINE.timestamp() * 1000)
