"""Fresh, cheap MLflow stores for tests.

Migrating a new SQLite database to MLflow's schema takes 1-2 s. We do it once
per MLflow version into a template file in a cache folder (the kata's
``.kata/cache/``) and give every test a copy of it, which costs a few
milliseconds.
"""

import functools
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path


def template_db(cache: Path) -> Path:
    """Return the migrated template database in ``cache``, building it on first use."""
    import mlflow

    cache.mkdir(parents=True, exist_ok=True)
    template = cache / f"template-mlflow-{mlflow.__version__}.db"
    if not template.exists():
        _build_template(template)
    return template


def _build_template(target: Path) -> None:
    from mlflow.store.model_registry.sqlalchemy_store import (
        SqlAlchemyStore as RegistryStore,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    # Build beside the target, then rename: parallel test workers never see
    # a half-migrated file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".db.tmp")
    os.close(fd)
    os.unlink(tmp)
    uri = f"sqlite:///{tmp}"
    tracking = TrackingStore(uri, str(target.parent / "unused-artifacts"))
    RegistryStore(uri)
    tracking.engine.dispose()
    os.replace(tmp, target)


def remember_the_schema_head() -> None:
    """MLflow checks every new store's schema against the newest of its migration
    scripts, and re-reads all of them each time (70 ms per store, so per test).
    The answer only changes with the MLflow version: read them once per process."""
    from mlflow.store.db import utils

    if not hasattr(utils._get_latest_schema_revision, "cache_info"):
        utils._get_latest_schema_revision = functools.cache(utils._get_latest_schema_revision)


def new_store(folder: Path, cache: Path) -> str:
    """Copy the template (kept in ``cache``) into ``folder``; return its ``sqlite:///`` URI.

    The default experiment's artifacts go to ``folder/mlruns/0``.
    """
    remember_the_schema_head()
    db = folder / "mlflow.db"
    shutil.copyfile(template_db(cache), db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            ((folder / "mlruns" / "0").as_uri(),),
        )
    return f"sqlite:///{db}"


RAM_DISK = Path("/dev/shm")
RAM_DISK_FREE = 2 << 30  # use it only with this much room (bytes)


def temp_files_in_memory() -> bool:
    """Put this process's temporary files (so every test's store) on a RAM disk.

    SQLite makes each MLflow write durable on disk; on a disk that costs 10-20 ms
    per commit (more on a busy machine), on Linux's ``/dev/shm`` (memory) almost
    nothing, and a test makes dozens. Used only when nobody chose a temp folder
    (``TMPDIR``) and the RAM disk has room; returns whether it is used.
    """
    if any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        return False
    try:
        stats = os.statvfs(RAM_DISK)
    except OSError:
        return False
    if stats.f_bavail * stats.f_frsize < RAM_DISK_FREE or not os.access(RAM_DISK, os.W_OK):
        return False
    tempfile.tempdir = str(RAM_DISK)
    return True
