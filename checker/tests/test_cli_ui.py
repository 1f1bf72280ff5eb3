"""`kata ui`: the MLflow UI on a store kept by --keep-store."""

import os
import sys

from checker.tests import fake_kata
from checker.tests.fake_kata import make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli


def keep_stores(kata, *names):
    """Fake kept stores, the first name the newest."""
    for age, name in enumerate(names):
        db = kata.state / "stores" / name / "mlflow.db"
        db.parent.mkdir(parents=True)
        db.write_bytes(b"")
        os.utime(db, (2_000_000 - age, 2_000_000 - age))


def test_ui_opens_the_most_recently_written_store(tmp_path, cli):
    kata = make_kata(tmp_path)
    keep_stores(kata, "module_01_test_ex02_b.py_test_y", "module_01_test_ex01_a.py_test_x")
    code, out = cli(kata, "ui", "--dry-run")
    db = kata.state / "stores/module_01_test_ex02_b.py_test_y/mlflow.db"
    assert code == 0
    assert out.split() == [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", f"sqlite:///{db}",
        "--host", "127.0.0.1", "--port", "5000", "--workers", "1",
    ]  # fmt: skip


def test_ui_filter_picks_the_newest_store_whose_test_id_matches(tmp_path, cli):
    kata = make_kata(tmp_path)
    keep_stores(kata, "module_01_test_ex02_b.py_test_y", "module_01_test_ex01_a.py_test_x")
    out = cli(kata, "ui", "ex01", "--dry-run")[1]
    assert "module_01_test_ex01_a.py_test_x/mlflow.db" in out


def test_ui_filter_without_a_match_lists_the_stores(tmp_path, cli):
    kata = make_kata(tmp_path)
    keep_stores(kata, "module_01_test_ex01_a.py_test_x")
    code, out = cli(kata, "ui", "ex09", "--dry-run")
    assert code == 1
    assert "No kept store matches 'ex09'" in out and "module_01_test_ex01_a.py_test_x" in out


def test_ui_without_kept_stores_explains_how_to_keep_them(tmp_path, cli):
    code, out = cli(make_kata(tmp_path), "ui")
    assert code == 1
    assert "--keep-store" in out


def test_ui_list_shows_the_kept_stores(tmp_path, cli):
    kata = make_kata(tmp_path)
    keep_stores(kata, "newer_store", "older_store")
    out = cli(kata, "ui", "--list")[1]
    assert out.index("newer_store") < out.index("older_store")


def test_ui_db_uses_the_given_file(tmp_path, cli):
    db = tmp_path / "mine.db"
    db.write_bytes(b"")
    out = cli(make_kata(tmp_path / "kata"), "ui", "--db", str(db), "--port", "5055", "--dry-run")[1]
    assert f"sqlite:///{db}" in out and "--port 5055" in out
