"""Nothing leaks from one exercise test to the next (each case fails on the old plugin).

One pytest run, with the real plugin and real MLflow stores, over a throw-away
kata tree whose tests would see each other's state if anything leaked; each
test below reads that run's report.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from checker.manifest import KataPaths
from checker.report import TestOutcome, read_report
from checker.runners import pytest_flags

# A correct learner file that does at import time what learners often do.
MODULE_LEVEL_STATE = """\
import mlflow
from mlflow import MlflowClient
from mlflow.utils.autologging_utils import autologging_is_disabled

client = MlflowClient()
EXPERIMENT_ID = mlflow.set_experiment("set-at-import").experiment_id
mlflow.openai.autolog()


def experiment_names():
    return sorted(e.name for e in client.search_experiments())


def openai_autolog_is_on():
    return not autologging_is_disabled("openai")
"""

MODULE_LEVEL_TESTS = """\
import mlflow
import pytest


@pytest.mark.parametrize("n", [1, 2, 3])
def test_module_level_state_belongs_to_this_tests_store(exercise, mlflow_store, n):
    assert exercise.client.tracking_uri == mlflow_store.uri
    assert exercise.experiment_names() == ["Default", "set-at-import"]
    assert mlflow.get_experiment(exercise.EXPERIMENT_ID).name == "set-at-import"
    assert exercise.openai_autolog_is_on()
"""

LAST_IDS_TESTS = """\
import mlflow


def test_a_records_a_trace_a_run_and_a_model():
    @mlflow.trace
    def step():
        return 1

    step()
    with mlflow.start_run():
        mlflow.create_external_model(name="m")
    assert mlflow.get_last_active_trace_id() is not None
    assert mlflow.last_active_run() is not None
    assert mlflow.last_logged_model() is not None


def test_b_starts_with_no_last_trace_run_or_model():
    assert mlflow.get_last_active_trace_id() is None
    assert mlflow.last_active_run() is None
    assert mlflow.last_logged_model() is None
"""

LEFTOVER_TESTS = """\
import mlflow


def test_leaves_a_run_active():
    mlflow.start_run()


def test_leaves_a_span_open():
    mlflow.start_span_no_context("dangling")


def test_after_them_nothing_is_left():
    assert mlflow.active_run() is None
    assert mlflow.get_current_active_span() is None
"""

PLAIN_EXERCISE = "def answer():\n    return 42\n"
PLAIN_TESTS = "def test_answer(exercise):\n    assert exercise.answer() == 42\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, TestOutcome]:
    """Run the throw-away tree once; return each test's failing phase (or None)."""
    root = tmp_path_factory.mktemp("leaky-kata")
    ex = root / "exercises"
    _write(ex / "module_08" / "ex01_state.py", PLAIN_EXERCISE)
    _write(ex / "module_08" / "test_ex01_state.py", PLAIN_TESTS)
    _write(ex / "module_09" / "ex01_state.py", MODULE_LEVEL_STATE)
    _write(ex / "module_09" / "test_ex01_state.py", MODULE_LEVEL_TESTS)
    _write(ex / "module_09" / "test_ex02_last_ids.py", LAST_IDS_TESTS)
    _write(ex / "module_09" / "test_ex03_leftovers.py", LEFTOVER_TESTS)
    report = root / "report.jsonl"
    command = [sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:xdist"]
    command += pytest_flags(KataPaths(root)) + [f"--kata-report={report}"]
    ran = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    result = read_report(report)
    assert result.finished, f"pytest did not finish:\n{ran.stdout[-3000:]}\n{ran.stderr[-2000:]}"
    if result.collect_errors:
        pytest.fail(f"collection failed: {result.collect_errors[0][1]}")
    return {nodeid.replace("exercises/", ""): test for nodeid, test in result.tests.items()}


def _failure(outcomes, name):
    assert name in outcomes, f"{name} did not run; ran: {sorted(outcomes)}"
    failure = outcomes[name].failure
    return None if failure is None else {"when": failure.when, "message": failure.message}


def test_two_modules_may_have_test_files_of_the_same_name(outcomes):
    assert _failure(outcomes, "module_08/test_ex01_state.py::test_answer") is None


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_module_level_client_cache_and_autolog_work_in_every_test_of_a_file(outcomes, n):
    name = f"module_09/test_ex01_state.py::test_module_level_state_belongs_to_this_tests_store[{n}]"
    failure = _failure(outcomes, name)
    assert failure is None, failure and failure["message"]


def test_the_last_active_trace_run_and_model_are_forgotten_between_tests(outcomes):
    first = "module_09/test_ex02_last_ids.py::test_a_records_a_trace_a_run_and_a_model"
    second = "module_09/test_ex02_last_ids.py::test_b_starts_with_no_last_trace_run_or_model"
    assert _failure(outcomes, first) is None
    failure = _failure(outcomes, second)
    assert failure is None, failure and failure["message"]


def test_a_run_left_active_fails_the_test_and_says_which(outcomes):
    failure = _failure(outcomes, "module_09/test_ex03_leftovers.py::test_leaves_a_run_active")
    assert failure is not None and failure["when"] == "teardown"
    assert "the test left MLflow state behind: the run " in failure["message"]
    assert "is still active" in failure["message"]


def test_a_span_left_open_fails_the_test_and_names_it(outcomes):
    failure = _failure(outcomes, "module_09/test_ex03_leftovers.py::test_leaves_a_span_open")
    assert failure is not None and failure["when"] == "teardown"
    assert "has spans that never ended: 'dangling'" in failure["message"]


def test_what_a_test_left_open_is_closed_before_the_next(outcomes):
    name = "module_09/test_ex03_leftovers.py::test_after_them_nothing_is_left"
    failure = _failure(outcomes, name)
    assert failure is None, failure and failure["message"]


def test_agent_server_registrations_are_forgotten_between_tests():
    from mlflow.genai.agent_server import invoke, server, stream

    from checker.isolation import reset_mlflow_state

    invoke()(lambda request: None)
    stream()(lambda request: iter(()))
    reset_mlflow_state()  # what the plugin does after each test

    assert (server._invoke_function, server._stream_function) == (None, None)
    invoke()(lambda request: None)  # a second registration, as in the next test: no ValueError
    reset_mlflow_state()


def test_a_flush_of_the_async_trace_queue_does_not_wait_for_the_consumers_second_long_poll(
    monkeypatch,
):
    import queue
    import time

    from mlflow.tracing.export import async_export_queue
    from mlflow.tracing.export.async_export_queue import AsyncTraceExportQueue, Task

    from checker.isolation import poll_the_trace_queue_quickly

    monkeypatch.setattr(async_export_queue, "Queue", queue.Queue)  # MLflow's own, as imported
    poll_the_trace_queue_quickly()
    exported: list[str] = []
    trace_queue = AsyncTraceExportQueue()
    trace_queue.activate()
    trace_queue.put(Task(handler=exported.append, args=["trace"]))
    time.sleep(0.1)  # the consumer has taken the trace and waits on the empty queue again

    started = time.monotonic()
    trace_queue.flush(terminate=True)
    took = time.monotonic() - started

    assert exported == ["trace"]
    assert took < 0.5, f"the flush waited {took:.2f} s for the consumer (MLflow's poll: 1 s)"


def test_http_clients_share_the_default_ssl_context_and_keep_their_own_settings():
    import httpx

    from checker.isolation import share_the_default_ssl_context

    share_the_default_ssl_context()  # done by every test's reset once httpx is imported

    def ssl_context(**settings):
        with httpx.Client(**settings) as client:
            return client._transport._pool._ssl_context  # type: ignore[attr-defined]

    first, second = ssl_context(), ssl_context()
    unverified = ssl_context(verify=False)

    assert first is second, "two default clients built an SSL context each"
    assert unverified is not first and not unverified.check_hostname, (
        "a client with verify=False got the shared default context"
    )


def test_a_client_trusting_other_certificates_gets_a_context_of_its_own(monkeypatch):
    import certifi
    import httpx

    from checker.isolation import share_the_default_ssl_context

    share_the_default_ssl_context()

    def ssl_context():
        with httpx.Client() as client:
            return client._transport._pool._ssl_context  # type: ignore[attr-defined]

    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    default = ssl_context()
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    with_a_cert_file = ssl_context()

    assert with_a_cert_file is not default, (
        "a client told to trust $SSL_CERT_FILE got the context built without it"
    )
    assert with_a_cert_file is ssl_context(), "two clients with the same $SSL_CERT_FILE differ"
