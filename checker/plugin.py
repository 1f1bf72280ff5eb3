"""The kata's pytest plugin, active for every pytest run in this repository.

It gives each test:
- its own fresh MLflow store (tracking and registry) in a temp folder, which is
  also the working directory, so nothing lands in the repository;
- an offline environment: a fake OpenAI key, real keys removed, telemetry and
  async trace logging off, and a guard that fails any non-loopback connection;
- a clean slate afterwards: no active run, experiment or model, no autolog
  patches, a reset tracer, no "last active" trace, run or model; a test that
  leaves a run active or a span open fails and says which;
- the ``exercise`` fixture: a fresh import of the learner's module (or of the
  reference solution with ``--solutions``, or of any file with
  ``--exercise-file``) for every test.

Test files are imported with ``--import-mode=importlib`` (see pyproject.toml),
so two modules may have test files of the same name.

``--keep-store`` keeps each test's store under ``.kata/stores/`` for
``kata ui``; ``--kata-report`` writes the JSON lines that ``kata`` reads.
"""

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker import fast_exit, isolation, loader, netguard
from checker import report as kata_report
from checker.manifest import KataPaths


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


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): run on one pytest-xdist worker")
    _share_the_random_order_seed_with_workers(config)
    fast_exit.arm(config)
    isolation.apply_test_env()
    isolation.give_main_module_a_file()
    netguard.install()
    # Relative to where pytest was started, not to the test's temp folder.
    config.option.exercise_file = [
        Path(config.invocation_params.dir, f).resolve() for f in config.option.exercise_file
    ]
    path = config.getoption("kata_report")
    # Under pytest-xdist only the controller writes; workers send it their reports.
    if path and not hasattr(config, "workerinput"):
        _REPORT["writer"] = kata_report.ReportWriter(Path(path))


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
    folder = _MUTANT_FOLDER.pop("folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_report_header(config):
    if config.getoption("solutions"):
        return "kata: checking the reference solutions in solutions/"
    return None


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


def kata_paths(config) -> KataPaths:
    """The kata tree pytest runs in: its rootdir (``kata`` passes ``--rootdir``)."""
    return KataPaths(Path(config.rootpath))


def _kept_store_folder(kata: KataPaths, nodeid: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("exercises/", "")).strip("_")
    folder = kata.state / "stores" / slug
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(autouse=True)
def mlflow_store(request, tmp_path, monkeypatch):
    """A fresh MLflow store for this test, set as tracking and registry URI.

    Afterwards, a run left active or a span left open fails the test.
    """
    from checker.store import new_store

    kata = kata_paths(request.config)
    folder = tmp_path
    if request.config.getoption("keep_store"):
        folder = _kept_store_folder(kata, request.node.nodeid)
    cache = kata.state / "cache"
    uri = new_store(folder, cache)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    for name in isolation.REMOVED_ENV:
        monkeypatch.delenv(name, raising=False)
    isolation.reset_mlflow_state()
    yield Store(uri=uri, folder=folder, cache=cache)
    left = isolation.leftovers()
    isolation.reset_mlflow_state()
    if left:
        pytest.fail("the test left MLflow state behind: " + "; ".join(left), pytrace=False)


# --- the exercise under test -------------------------------------------------


@pytest.fixture
def exercise(request, mlflow_store):
    """The module under test, imported afresh: your exercise file, or its reference solution."""
    module = loader.load(_target(request.config, request.path, getattr(request, "param", None)))
    yield module
    loader.unload(module)


def pytest_generate_tests(metafunc):
    """With several ``--exercise-file``, run each test once per file; with
    ``--kata-targets``, once per target (solution, stub, each mutant)."""
    if "exercise" not in metafunc.fixturenames:
        return
    files = metafunc.config.option.exercise_file
    if len(files) > 1:
        metafunc.parametrize("exercise", files, indirect=True, ids=[f.stem for f in files])
    elif metafunc.config.getoption("kata_targets"):
        targets = _verify_targets(metafunc.config, Path(metafunc.definition.path))
        if targets:
            ids, paths = zip(*targets, strict=True)
            metafunc.parametrize("exercise", paths, indirect=True, ids=ids)


# What each file checked under --kata-targets is: "solution", "stub" or "mutant:<name>".
_TARGET_KIND: dict[Path, str] = {}
_MUTANT_FOLDER: dict[str, Path] = {}


def _verify_targets(config, test_file: Path) -> list[tuple[str, Path]]:
    """(test id, file) of each target of ``test_file``'s exercise."""
    from checker.mutants import build_mutants

    kinds = {k.strip() for k in config.getoption("kata_targets").split(",")}
    unknown = kinds - {"solution", "stub", "mutants"}
    if unknown:
        raise pytest.UsageError(f"--kata-targets: unknown {sorted(unknown)}")
    targets = []
    if "solution" in kinds:
        targets.append(("solution", loader.target_file(test_file, solutions=True)))
    if "stub" in kinds:
        targets.append(("stub", loader.target_file(test_file, solutions=False)))
    for kind, path in targets:
        _TARGET_KIND[path] = kind
    if "mutants" in kinds:
        if "folder" not in _MUTANT_FOLDER:
            _MUTANT_FOLDER["folder"] = Path(tempfile.mkdtemp(prefix="kata-mutants-"))
        module, stem = test_file.parent.name, test_file.stem.removeprefix("test_")
        folder = _MUTANT_FOLDER["folder"] / module
        for mutant in build_mutants(kata_paths(config), module, stem, folder):
            _TARGET_KIND[mutant.path] = f"mutant:{mutant.name}"
            targets.append((f"mutant-{mutant.name}", mutant.path))
    return targets


def _target_kind(path: Path | None) -> str | None:
    return _TARGET_KIND.get(path) if path is not None else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under --kata-targets, keep every target of one exercise on one xdist worker (Spark
    and server tests keep their own groups): a mutant then stops at its first failure."""
    if not config.getoption("kata_targets"):
        return
    for item in items:
        if "exercise" in item.fixturenames and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(f"exercise:{item.path}"))


def _target(config, test_file: Path, param: Path | None = None) -> Path:
    """The file a test checks: its --exercise-file, the stub, or the solution."""
    files = config.option.exercise_file
    if param is not None:
        return param
    if files:
        return files[0]
    return loader.target_file(test_file, config.getoption("solutions"))


def _exercise_file_of(item) -> Path | None:
    if "exercise" not in item.fixturenames:
        return None
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("exercise") if callspec else None
    return _target(item.config, item.path, param)


_FAILED_FILES: set[Path] = set()  # files that failed a test, when that ends their checks


def _stops_at_first_failure(config, path: Path | None) -> bool:
    """A mutant needs one failing test to be rejected; so does each --exercise-file
    with --first-failure-per-file."""
    kind = _target_kind(path) or ""
    return config.getoption("first_failure_per_file") or kind.startswith("mutant:")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    target = _exercise_file_of(item)
    if target in _FAILED_FILES and _stops_at_first_failure(item.config, target):
        pytest.skip(f"{target.name} already failed a test")


# --- the JSON report ---------------------------------------------------------


_REPORT: dict = {"writer": None}  # set by --kata-report; most hooks get no config


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    writer = _REPORT["writer"]
    if writer:
        writer.write(event="start", nodeid=item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    exc = call.excinfo.value if call.excinfo else None
    exercise_file = _exercise_file_of(item)
    if rep.failed and exercise_file and _stops_at_first_failure(item.config, exercise_file):
        _FAILED_FILES.add(exercise_file)
    # user_properties travel from xdist workers to the controller, which writes the report.
    rep.user_properties.append(
        (
            "kata",
            {
                "not_implemented": kata_report.is_not_implemented(exc),
                "exception": type(exc).__name__ if exc else None,
                "where": kata_report.learner_frame(call.excinfo, exercise_file),
                "exercise_file": str(exercise_file) if exercise_file else None,
                "target": _target_kind(exercise_file),
            },
        )
    )
    return rep


def pytest_runtest_logreport(report):
    writer = _REPORT["writer"]
    if writer is None:
        return
    details = dict(report.user_properties).get("kata", {})
    writer.write_result(
        kata_report.PhaseResult(
            nodeid=report.nodeid,
            when=report.when,
            outcome=report.outcome,
            duration=round(report.duration, 3),
            message=kata_report.crash_message(report),
            **details,
        )
    )


def pytest_collectreport(report):
    writer = _REPORT["writer"]
    if writer is not None and report.failed:
        writer.write(
            event="collect_error",
            nodeid=report.nodeid,
            message=str(report.longrepr).strip()[-2000:],
        )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    fast_exit.record(session.exitstatus)
    writer = _REPORT["writer"]
    if writer:
        writer.write(event="finish", exitstatus=int(exitstatus))
        writer.close()
        _REPORT["writer"] = None
