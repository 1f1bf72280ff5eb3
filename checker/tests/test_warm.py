"""The warm worker of `kata watch`: the same results as a cold check, and it survives
whatever the learner's code does."""

from pathlib import Path

import pytest

from checker.check import CheckOptions, check_exercises, check_one
from checker.manifest import load_manifest
from checker.progress import CRASH, DONE, TIMEOUT, Progress
from checker.tests import fake_kata
from checker.tests.fake_kata import (
    HALF_RIGHT,
    HANG,
    OS_EXIT,
    SOLUTION,
    STUB,
    SYNTAX_ERROR,
    SYS_EXIT,
    FakeExercise,
    make_kata,
)
from checker.warm import WarmWorker, can_fork, pool_for

pytestmark = pytest.mark.skipif(not can_fork(), reason="the warm worker needs fork()")

SEGFAULT = """\
import ctypes


def add(a, b):
    return ctypes.string_at(0)
"""

LEARNER_FILES = {
    "correct": SOLUTION,
    "untouched": STUB,
    "half_right": HALF_RIGHT,
    "syntax_error": SYNTAX_ERROR,
    "os_exit": OS_EXIT,
    "sys_exit": SYS_EXIT,
    "hang": HANG,
    "segfault": SEGFAULT,
}


@pytest.fixture(scope="module")
def kata(tmp_path_factory):
    exercises = [  # only the hang waits for its timeout; the others finish at once
        FakeExercise(
            f"module_01/ex{n:02d}_{kind}", stub=source, timeout=2 if kind == "hang" else 60
        )
        for n, (kind, source) in enumerate(LEARNER_FILES.items(), 1)
    ]
    return make_kata(tmp_path_factory.mktemp("kata"), *exercises)


@pytest.fixture(scope="module")
def worker(kata):
    with pytest.MonkeyPatch.context() as patch:
        fake_kata.fast_checks(patch)
        started = WarmWorker(kata).start()
        yield started
        started.stop()


def _results(kata, worker, kind):
    exercise = next(e for e in load_manifest(kata).exercises if e.id.endswith(kind))
    with pytest.MonkeyPatch.context() as patch:
        fake_kata.fast_checks(patch)
        cold = check_one(kata, exercise, CheckOptions())
    warm = check_one(kata, exercise, CheckOptions(), run=worker.run)
    return cold, warm


def _same(result):
    return (
        result.status,
        result.problem,
        result.passed,
        result.total,
        result.message,
        result.where,
    )


@pytest.mark.parametrize("kind", list(LEARNER_FILES))
def test_a_warm_check_reports_exactly_what_a_cold_check_reports(kata, worker, kind):
    cold, warm = _results(kata, worker, kind)
    assert _same(warm) == _same(cold)
    assert worker.alive


def test_a_crash_in_native_code_is_reported_as_a_crash_and_the_worker_survives(kata, worker):
    _, warm = _results(kata, worker, "segfault")
    assert warm.problem == CRASH
    assert "killed by SIGSEGV" in warm.message
    _, after = _results(kata, worker, "correct")
    assert after.status == DONE


def test_a_hang_is_killed_at_the_timeout_and_the_worker_survives(kata, worker):
    _, warm = _results(kata, worker, "hang")
    assert warm.problem == TIMEOUT and warm.duration < 10
    assert worker.alive


def test_a_worker_that_died_is_started_again_on_the_next_check(kata, monkeypatch):
    fake_kata.fast_checks(monkeypatch)
    worker = WarmWorker(kata).start()
    worker.process.kill()
    worker.process.wait()
    exercise = load_manifest(kata).exercises[0]
    try:
        result = check_one(kata, exercise, CheckOptions(), run=worker.run)
    finally:
        worker.stop()
    assert result.status == DONE


def test_a_change_to_a_test_file_the_checker_the_kit_or_the_lock_restarts_the_worker(kata):
    from checker.warm import restarts_worker

    restarting = ["exercises/module_01/test_ex01_correct.py", "checker/plugin.py"]
    restarting += ["fixtures/llm_server.py", "uv.lock", "pyproject.toml", "conftest.py"]
    assert all(restarts_worker(kata, kata.root / p) for p in restarting)
    assert not restarts_worker(kata, kata.root / "exercises/module_01/ex01_correct.py")


def test_the_worker_preloads_what_the_tests_and_the_solution_import_never_the_learners_file(
    tmp_path,
):
    from checker.warm import imports_of

    kata = make_kata(tmp_path)
    exercise = load_manifest(kata).exercises[0]
    kata.test_file(exercise).write_text("import json\nfrom os import path\n" + fake_kata.TESTS)
    kata.solution(exercise).write_text("import decimal\n" + SOLUTION)
    kata.stub(exercise).write_text("import this_module_is_the_learners\n" + SOLUTION)

    assert imports_of(kata, exercise) == ["json", "os", "decimal"]


def test_a_test_file_taking_the_litellm_fixture_has_litellm_preloaded(tmp_path):
    from checker.warm import imports_of

    kata = make_kata(tmp_path)
    exercise = load_manifest(kata).exercises[0]
    kata.test_file(exercise).write_text(
        "import json\n\ndef test_x(exercise, litellm):\n    pass\n" + fake_kata.TESTS
    )

    assert imports_of(kata, exercise)[:2] == ["json", "litellm"]


def test_a_library_comes_with_what_it_imports_on_first_use(tmp_path):
    from checker.preload import IMPORTED_ON_FIRST_USE
    from checker.warm import imports_of

    kata = make_kata(tmp_path)
    exercise = load_manifest(kata).exercises[0]
    kata.solution(exercise).write_text("from sklearn.linear_model import Ridge\n" + SOLUTION)

    assert imports_of(kata, exercise) == ["sklearn.linear_model", *IMPORTED_ON_FIRST_USE["sklearn"]]


USES_WAVE_AND_A_KATA_MODULE = (
    SOLUTION
    + """

def read_header():
    import kata_helper  # a module of the kata itself
    import wave  # a library module that nothing else here imports

    return wave, kata_helper
"""
)

FINDS_WAVE_LOADED = """\
import sys


def test_the_library_module_is_loaded_already(exercise):
    assert "wave" in sys.modules


def test_the_kata_module_is_not(exercise):
    assert "kata_helper" not in sys.modules
"""


CALLS_READ_HEADER = """\
def test_one(exercise):
    exercise.read_header()


def test_two(exercise):
    exercise.read_header()
"""


@pytest.mark.parametrize("forks", [1, 2])  # with 2, the tests run in forks of pytest
def test_the_worker_learns_the_library_modules_a_check_imported_never_the_katas(tmp_path, forks):
    kata = make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_uses_wave", stub=USES_WAVE_AND_A_KATA_MODULE,
                     tests=CALLS_READ_HEADER),
        FakeExercise("module_01/ex02_finds_wave", stub=SOLUTION, tests=FINDS_WAVE_LOADED),
    )  # fmt: skip
    (kata.root / "kata_helper.py").write_text("HELLO = 1\n")
    uses, finds = load_manifest(kata).exercises
    with pytest.MonkeyPatch.context() as patch:
        fake_kata.fast_checks(patch)
        assert check_one(kata, finds, CheckOptions()).passed == 1  # cold: wave not loaded
        worker = WarmWorker(kata).start()
        try:
            used = check_one(kata, uses, CheckOptions(), run=worker.run, forks=forks)
            assert used.status == DONE, used.message
            found = check_one(kata, finds, CheckOptions(), run=worker.run)
        finally:
            worker.stop()

    assert (found.status, found.passed) == (DONE, 2), found.message


def _printed_by_a_new_python(code: str) -> str:
    """What ``python -c code`` prints, run in the kata's root (a fresh process: nothing
    this test process imported)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_the_worker_fills_mlflows_cache_of_installed_packages_once_for_every_check():
    code = (
        "from checker.warm import _fill_caches; from mlflow.utils import requirements_utils\n"
        "_fill_caches(); print('sklearn' in requirements_utils._MODULES_TO_PACKAGES)\n"
    )
    assert _printed_by_a_new_python(code) == "True"


def test_the_worker_preloads_mlflows_first_uses_unless_told_the_checks_never_use_mlflow(kata):
    from checker.preload import MLFLOW_ON_FIRST_USE
    from checker.warm import preloaded

    with_mlflow, without = preloaded(kata.root, mlflow=True), preloaded(kata.root, mlflow=False)

    assert set(MLFLOW_ON_FIRST_USE) <= set(with_mlflow), "MLflow's first uses are not preloaded"
    assert not set(MLFLOW_ON_FIRST_USE) & set(without), f"MLflow preloaded anyway: {without}"
    assert "checker.plugin" in without


def test_litellm_is_imported_for_the_checks_but_stays_hidden():
    code = (
        "import sys; from checker.warm import _import_quietly; from checker import isolation\n"
        "isolation.hide_litellm(); _import_quietly(['litellm'])\n"
        "assert sys.modules['litellm'] is None, 'left visible'\n"
        "isolation.allow_litellm(); import litellm; print(litellm.__name__)\n"
    )
    assert _printed_by_a_new_python(code) == "litellm"


def test_checking_several_exercises_forks_warm_workers_and_reports_what_cold_checks_do(
    kata, monkeypatch
):
    exercises = load_manifest(kata).exercises
    fake_kata.fast_checks(monkeypatch)
    cold = [_same(check_one(kata, e, CheckOptions())) for e in exercises]
    forked = []
    warm_run = WarmWorker.run

    def run_and_count(self, *args):
        forked.append(self)
        return warm_run(self, *args)

    monkeypatch.setattr(WarmWorker, "run", run_and_count)

    results = check_exercises(
        kata, exercises, Progress.load(kata), CheckOptions(force=True), pool=pool_for(kata, 2)
    )

    assert [_same(r) for r in results] == cold
    assert len(forked) == len(exercises) and len(set(forked)) == 2  # two jobs, two workers
