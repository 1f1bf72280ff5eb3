"""The kata's pytest plugin, active for every pytest run in this repository.

It gives each test:
- its own fresh MLflow store (tracking and registry) in a temp folder, which is
  also the working directory, so nothing lands in the repository;
- an offline environment: a fake OpenAI key, real keys removed, telemetry and
  async trace logging off, and a guard that fails any non-loopback connection;
- a clean slate afterwards: no active run, experiment or model, no autolog
  patches, a reset tracer, no "last active" trace, run or model, the
  environment variables as they were; a test that leaves a run active or a
  span open fails and says which;
- the ``exercise`` fixture: a fresh import of the learner's module (or of the
  reference solution with ``--solutions``) for every test.

Its parts: ``checker.store`` (the store), ``checker.isolation`` (the clean
slate), ``checker.netguard`` (offline), ``checker.loader`` (the fresh import),
``checker.targets`` (which file a test checks, and ``kata verify``'s targets),
``checker.reporting`` (``--kata-report``), ``checker.parallel``
(``--kata-forks``: one check's tests on several cores) and ``checker.record``
(a plain pytest run of an exercise records its result, as ``kata check`` does).
Test files are imported with ``--import-mode=importlib`` (see pyproject.toml),
so two modules may have test files of the same name. ``--keep-store`` keeps each test's store under
``.kata/stores/`` for ``kata ui``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker import fast_exit, isolation, loader, netguard, parallel, store
from checker.manifest import KataPaths
from checker.record import Record
from checker.reporting import Reporting, TestDetails
from checker.targets import Targets, kata_paths


def pytest_addoption(parser):
    group = parser.getgroup("kata")
    group.addoption(
        "--solutions",
        action="store_true",
        help="run the exercise tests against solutions/ instead of your files",
    )
    group.addoption(
        "--keep-store",
        action="store_true",
        help="keep each test's MLflow store under .kata/stores/ for `kata ui`",
    )
    group.addoption(
        "--exercise-file",
        metavar="PATH",
        action="append",
        default=[],
        help="check this file instead (e.g. a deliberately wrong solution); one test file "
        "only; given several times, every test runs once per file",
    )
    group.addoption(
        "--kata-targets",
        metavar="KINDS",
        help="run every exercise test once per target: a comma-separated list of solution, "
        "stub and mutants (the plausible wrong solutions); what `kata verify` uses",
    )
    group.addoption(
        "--first-failure-per-file",
        action="store_true",
        help="with several --exercise-file, skip a file's remaining tests once one failed "
        "(enough to know that a wrong solution is rejected)",
    )
    group.addoption("--kata-report", metavar="PATH", help="write JSON lines for `kata`")
    group.addoption(
        "--kata-modules",
        metavar="MODULES",
        default="",
        help="limit the per-exercise contract checks to these modules (comma-separated)",
    )
    group.addoption(
        "--kata-first",
        metavar="NAMES",
        default="",
        help="run these tests (comma-separated names) first: `kata` passes the ones that "
        "failed last time, so a learner sees the verdict that matters soonest",
    )
    group.addoption(
        "--kata-forks",
        type=int,
        default=1,
        metavar="N",
        help="run the tests in N forked processes at once (what `kata check` uses)",
    )


_TARGETS = "kata-targets"


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): run on one pytest-xdist worker")
    _share_the_random_order_seed_with_workers(config)
    fast_exit.arm(config)
    isolation.apply_test_env()
    isolation.give_main_module_a_file()
    netguard.install()
    if not config.option.basetemp:
        store.temp_files_in_memory()
    targets = Targets(config)
    config.pluginmanager.register(targets, _TARGETS)
    config.pluginmanager.register(TestDetails(targets), "kata-test-details")
    config.pluginmanager.register(Reporting(config), "kata-reporting")
    if Record.wanted(config):
        config.pluginmanager.register(Record(config, kata_paths(config)), "kata-record")
    forks = config.getoption("kata_forks")
    uses_xdist = hasattr(config, "workerinput") or getattr(config.option, "numprocesses", None)
    if forks > 1 and parallel.can_fork() and not uses_xdist:
        config.pluginmanager.register(parallel.ForkedRun(config, forks), "kata-forks")


def _targets(config) -> Targets:
    return config.pluginmanager.get_plugin(_TARGETS)


def _share_the_random_order_seed_with_workers(config) -> None:
    """With ``-p pytest_randomly -n 2``, give the xdist workers the controller's seed.

    pytest-randomly does this itself only when xdist is registered as "xdist"; the
    kata loads it as "xdist.plugin" (plugin auto-loading is off).
    """
    manager = config.pluginmanager
    if not (manager.hasplugin("pytest_randomly") and manager.hasplugin("xdist.plugin")):
        return
    import pytest_randomly

    if not any(isinstance(p, pytest_randomly.XdistHooks) for p in manager.get_plugins()):
        manager.register(pytest_randomly.XdistHooks())


def pytest_unconfigure(config):
    netguard.uninstall()


def pytest_report_header(config):
    if config.getoption("solutions"):
        return "kata: checking the reference solutions in solutions/"
    return None


def pytest_collection_modifyitems(config, items):
    """``--kata-first``: the named tests first, in the order named, the rest after in
    file order."""
    names = [name for name in config.getoption("kata_first").split(",") if name]
    rank = {name: number for number, name in enumerate(names)}
    if rank:
        items.sort(key=lambda item: rank.get(item.name.split("[", 1)[0], len(rank)))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    fast_exit.record(session.exitstatus)


# --- the store and the clean slate -------------------------------------------


@dataclass
class Store:
    """The MLflow store of one test: ``uri``, its ``folder`` (the working directory)."""

    uri: str
    folder: Path
    cache: Path  # where the template database lives

    def client(self):
        """An MlflowClient on this store, whatever the code under test did to the URIs."""
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def another_store(self, name: str) -> str:
        """A second, empty store in ``folder/name``; returns its URI."""
        from checker.store import new_store

        folder = self.folder / name
        folder.mkdir()
        return new_store(folder, self.cache)


def _kept_store_folder(kata: KataPaths, nodeid: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("exercises/", "")).strip("_")
    folder = kata.state / "stores" / slug
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(autouse=True)
def mlflow_store(request, tmp_path, monkeypatch):
    """A fresh MLflow store for this test, set as tracking and registry URI.

    Afterwards, a run left active or a span left open fails the test, and every
    environment variable is put back as it was.
    """
    environment = dict(os.environ)
    kata = kata_paths(request.config)
    folder = tmp_path
    if request.config.getoption("keep_store"):
        folder = _kept_store_folder(kata, request.node.nodeid)
    cache = kata.state / "cache"
    uri = store.new_store(folder, cache)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    for name in isolation.REMOVED_ENV:
        monkeypatch.delenv(name, raising=False)
    isolation.reset_mlflow_state()
    yield Store(uri=uri, folder=folder, cache=cache)
    left = isolation.leftovers()
    isolation.reset_mlflow_state()
    isolation.hide_litellm()  # in case a test imported it some other way than the fixture
    isolation.restore_environment(environment)
    if not request.config.getoption("keep_store"):
        _empty(folder)
    if left:
        pytest.fail("the test left MLflow state behind: " + "; ".join(left), pytrace=False)


def _empty(folder: Path) -> None:
    """Delete what a test left in its folder (a RAM disk must not fill up), but keep
    the folder: pytest would give its name to the next test, and MLflow keeps a
    connection to each store it opened, by path."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


# --- the exercise under test -------------------------------------------------


# A fixture function with this attribute fills the test's store (the kit's store
# snapshots): it must run before the learner's file is imported.
ARRANGES_STORE = "kata_arranges_store"


@pytest.fixture
def exercise(request, mlflow_store):
    """The module under test, imported afresh: your exercise file, or its reference solution.

    Fixtures that fill the store (marked with ``kata_arranges_store``) run first, so
    nothing the learner's file does at import sees a store being copied in.
    """
    for name, definitions in request.node._fixtureinfo.name2fixturedefs.items():
        if definitions and getattr(definitions[-1].func, ARRANGES_STORE, False):
            request.getfixturevalue(name)
    path = _targets(request.config).target(request.path, getattr(request, "param", None))
    module = loader.load(path)
    yield module
    loader.unload(module)
