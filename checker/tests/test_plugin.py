"""The pytest plugin gives every test an isolated, offline MLflow world."""

import os
import socket
import time
from pathlib import Path

import mlflow
import pytest

from checker import isolation, loader, netguard
from checker.manifest import DEFAULT_ROOT as ROOT


def test_each_test_gets_its_own_sqlite_store_in_a_temp_folder(mlflow_store, tmp_path):
    assert mlflow.get_tracking_uri() == mlflow_store.uri
    assert mlflow.get_registry_uri() == mlflow_store.uri
    assert mlflow_store.uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert Path.cwd() == tmp_path


def test_the_store_is_migrated_and_holds_only_the_default_experiment(mlflow_store):
    experiments = mlflow_store.client().search_experiments()
    assert [e.name for e in experiments] == ["Default"]


def test_artifacts_of_the_default_experiment_stay_in_the_temp_folder(tmp_path):
    with mlflow.start_run() as run:
        mlflow.log_dict({"a": 1}, "a.json")
    artifact_uri = mlflow.get_run(run.info.run_id).info.artifact_uri
    assert artifact_uri.startswith(tmp_path.as_uri())


def test_the_environment_is_offline_and_quiet():
    assert os.environ["OPENAI_API_KEY"].startswith("sk-kata-fake")
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] == "false"
    assert "ANTHROPIC_API_KEY" not in os.environ


def test_a_connection_beyond_loopback_fails_at_once_naming_the_host():
    start = time.monotonic()
    with pytest.raises(netguard.NetworkAccessBlocked, match="api.openai.com"):
        socket.create_connection(("api.openai.com", 443), timeout=10)
    with pytest.raises(netguard.NetworkAccessBlocked, match="203.0.113.9"):
        socket.create_connection(("203.0.113.9", 80), timeout=10)
    assert time.monotonic() - start < 1


def test_loopback_connections_are_allowed():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    with socket.create_connection(("localhost", port), timeout=5):
        pass
    server.close()


def test_reset_clears_runs_experiments_models_and_uris(tmp_path):
    mlflow.set_experiment("left-behind")
    mlflow.start_run()
    mlflow.set_active_model(name="left-behind-model")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}")

    isolation.reset_mlflow_state()

    assert mlflow.active_run() is None
    assert mlflow.get_active_model_id() is None
    assert mlflow.tracking.fluent._active_experiment_id is None
    assert mlflow.get_tracking_uri() == os.environ["MLFLOW_TRACKING_URI"]


def test_reset_reverts_autolog_patches():
    from mlflow.utils.autologging_utils import autologging_is_disabled

    mlflow.openai.autolog()
    assert not autologging_is_disabled("openai")

    isolation.reset_mlflow_state()

    from mlflow.utils.autologging_utils.safety import _AUTOLOGGING_PATCHES

    assert "openai" not in _AUTOLOGGING_PATCHES


def test_an_exercise_file_with_a_syntax_error_is_reported_in_plain_words(tmp_path):
    broken = tmp_path / "ex01_broken.py"
    broken.write_text("def f(:\n    pass\n")
    with pytest.raises(pytest.fail.Exception, match=r"ex01_broken.py does not parse.*line 1"):
        loader.load(broken)


def test_an_exercise_file_that_raises_on_import_names_the_line(tmp_path):
    broken = tmp_path / "ex02_raises.py"
    broken.write_text("x = 1\nraise RuntimeError('boom')\n")
    with pytest.raises(pytest.fail.Exception, match=r"line 2\): RuntimeError: boom"):
        loader.load(broken)


def test_a_test_file_checks_the_stub_or_with_solutions_the_solution():
    test_file = ROOT / "exercises" / "module_01" / "test_ex01_setup.py"
    assert loader.target_file(test_file, solutions=False) == test_file.with_name("ex01_setup.py")
    assert loader.target_file(test_file, solutions=True) == (
        ROOT / "solutions" / "module_01" / "ex01_setup.py"
    )


def test_first_failure_per_file_skips_the_rest_of_a_file_once_it_failed(tmp_path):
    import subprocess
    import sys

    from checker.report import read_report
    from checker.runners import pytest_flags
    from checker.tests.fake_kata import FAST_PYTEST, HALF_RIGHT, FakeExercise, make_kata

    kata = make_kata(tmp_path / "kata", FakeExercise())
    wrong = tmp_path / "always_4.py"
    wrong.write_text(HALF_RIGHT.replace("return 3", "return 4"))  # fails both tests
    right = kata.solutions / "module_01" / "ex01_add.py"
    test_file = kata.exercises / "module_01" / "test_ex01_add.py"
    report = tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "pytest", str(test_file), *pytest_flags(kata), "-q"]
    command += [*FAST_PYTEST.split(), f"--exercise-file={wrong}", f"--exercise-file={right}"]
    command += ["--first-failure-per-file", f"--kata-report={report}"]

    subprocess.run(command, cwd=kata.root, capture_output=True, timeout=60)

    outcomes = {t.nodeid.split("::")[-1]: t.outcome for t in read_report(report).tests.values()}
    assert sorted(outcomes.items()) == [
        ("test_adds_negative_numbers[always_4]", "skipped"),
        ("test_adds_negative_numbers[ex01_add]", "passed"),
        ("test_adds_two_numbers[always_4]", "failed"),
        ("test_adds_two_numbers[ex01_add]", "passed"),
    ]


ARRANGED_BEFORE_IMPORT = """\
import pathlib

import pytest


def arranged():
    pathlib.Path("arranged.txt").write_text("the store is ready")


arranged.kata_arranges_store = True
arranged = pytest.fixture(arranged)


def test_the_store_was_arranged_before_the_file_was_imported(exercise, arranged):
    assert exercise.SEEN == "the store is ready"
"""


def test_a_fixture_that_fills_the_store_runs_before_the_learners_file_is_imported(tmp_path):
    import subprocess
    import sys

    from checker.runners import pytest_flags
    from checker.tests.fake_kata import FAST_PYTEST, FakeExercise, make_kata

    reads_at_import = 'import pathlib\nSEEN = pathlib.Path("arranged.txt").read_text()\n'
    kata = make_kata(
        tmp_path / "kata", FakeExercise(stub=reads_at_import, tests=ARRANGED_BEFORE_IMPORT)
    )
    test_file = kata.exercises / "module_01" / "test_ex01_add.py"
    command = [sys.executable, "-m", "pytest", str(test_file), *pytest_flags(kata), "-q"]
    command += FAST_PYTEST.split()

    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("case", ["first", "second", "third"])
def test_every_case_of_a_test_gets_a_fresh_store_that_takes_writes(mlflow_store, tmp_path, case):
    # Each test's folder is emptied afterwards (temp files may live in memory);
    # the next case must still get a folder of its own and a store that works.
    marker = tmp_path.parent / f"{tmp_path.name}-was-used"
    assert not marker.exists(), f"{tmp_path.name} was another test's folder"
    marker.touch()
    done = [
        p.with_name(p.name.removesuffix("-was-used")) for p in tmp_path.parent.glob("*-was-used")
    ]
    assert all(not any(p.iterdir()) for p in done if p != tmp_path), "an earlier case left files"
    mlflow.set_experiment(f"experiment-{case}")
    with mlflow.start_run():
        mlflow.log_param("case", case)
    runs = mlflow_store.client().search_runs(
        [mlflow.get_experiment_by_name(f"experiment-{case}").experiment_id]
    )
    assert [r.data.params["case"] for r in runs] == [case]
