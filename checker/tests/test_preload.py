"""What a forking process loads first (checker/preload.py): which modules a file imports,
and what a library imports on first use."""

from checker.preload import IMPORTED_ON_FIRST_USE, first_uses, imported_by

SOURCE = """\
import mlflow, json
from sklearn.linear_model import Ridge
from . import local


def f():
    import hidden
"""


def test_every_absolute_import_is_found_in_order_nested_ones_too():
    assert imported_by(SOURCE) == ["mlflow", "json", "sklearn.linear_model", "hidden"]


def test_only_top_level_imports_are_found_when_asked():
    assert imported_by(SOURCE, nested=False) == ["mlflow", "json", "sklearn.linear_model"]


def test_a_file_that_does_not_parse_imports_nothing():
    assert imported_by("this is not python (") == []


def test_a_library_brings_what_it_imports_on_first_use():
    assert first_uses(["json", "sklearn.linear_model"]) == IMPORTED_ON_FIRST_USE["sklearn"]
    assert first_uses(["json", "sklearnish"]) == []
