"""A warm worker for ``kata watch``: pytest and MLflow loaded once, a fresh child per check.

    worker = WarmWorker(kata).start()              # a Python running serve()
    outcome = worker.run(pytest_args, output, 120) # like process.run_process, warm
    worker.stop()

A cold check pays 2-5 s before its first test runs: starting Python, importing
pytest, MLflow, its SQL stores, LangChain... The worker pays that once. For
each check it forks; the child runs pytest on the exercise's test file with
exactly the flags of a cold check (a fresh MLflow store per test, a fresh import
of the learner's file, the same report) and exits. The learner's code only
ever runs in the child, so a syntax error, a hang (the worker kills the child's
process group at the timeout), ``os._exit`` or a crash in native code costs
the worker nothing, and is reported exactly as a cold check reports it.

The worker also learns: a child notes the library modules that its check
imported on first use (``learned_modules``), and the worker imports them after
answering, so the next check of that exercise finds them loaded (a LlamaIndex
query engine's first use costs 1.5 s per fork otherwise). Never a module of the
kata itself, nor one the tests must import afresh (``NEVER_LEARNED``).

Only POSIX systems can fork; elsewhere ``kata watch`` checks cold.

The worker speaks JSON lines on its stdin and on a copy of its stdout:
``{"op": "warm", "modules": [...]}`` imports more modules (an exercise's own
imports) and answers ``{"ok": true}``; ``{"op": "check", "args": [...],
"cwd": ..., "output": ..., "timeout": s}`` answers ``{"returncode",
"timed_out", "duration"}``.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from checker.manifest import Exercise, KataPaths
from checker.preload import MLFLOW_ON_FIRST_USE, first_uses, import_quietly, imported_by, parse
from checker.process import ProcessOutcome, wait_for_child
from checker.runners import Runner, cold_run

SERVICE_PREFIX = "KATA_"  # KATA_MLFLOW_SERVER, KATA_SPARK_REMOTE: see checker.services

# What every check needs, imported once by the worker: pytest, and what the first test of
# any check imports on first use (0.3-0.5 s otherwise). MLflow's own first uses come too,
# unless $KATA_WARM_MLFLOW is "0" (see ``preloaded``).
BASE_MODULES = ["pytest", "checker.plugin", "xdist.plugin", "pdb"]

# "0" where the checks never touch MLflow (the checker's own fake katas): the worker then
# skips MLflow, its template store and its caches, and starts in 0.5 s instead of 4-6 s.
WARM_MLFLOW = "KATA_WARM_MLFLOW"

# Packages the worker must not import on its own: litellm stays hidden from tests
# (``checker.isolation.hide_litellm``; ``_import_litellm`` loads it on request).
NEVER_LEARNED = ("litellm",)


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


_LITELLM_FIXTURE = re.compile(r"def \w+\([^)]*\blitellm\b")  # a test or fixture taking it


def imports_of(kata: KataPaths, exercise: Exercise) -> list[str]:
    """The modules that the exercise's test file and reference solution import.

    Never the learner's file: the worker must not run code that might start a
    thread before it forks.
    """
    modules: list[str] = []
    for path in (kata.test_file(exercise), kata.solution(exercise)):
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            continue
        modules += imported_by(source)
        if path == kata.test_file(exercise) and _LITELLM_FIXTURE.search(source):
            modules.append("litellm")  # the kit's fixture: see _import_litellm
    modules += first_uses(modules)
    return list(dict.fromkeys(modules))


def conftest_plugins(root: Path) -> list[str]:
    """The plugins the kata's ``conftest.py`` names in ``pytest_plugins`` (the test kit's
    fixtures): every check loads them."""
    try:
        tree = parse((root / "conftest.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in node.targets
        ):
            with contextlib.suppress(ValueError):
                return [str(name) for name in ast.literal_eval(node.value)]
    return []


def restarts_worker(kata: KataPaths, path: Path) -> bool:
    """A change here may change what the worker has loaded: the checker, the kit,
    a test file, the libraries."""
    path = path.resolve()
    root = kata.root.resolve()
    if path.name.startswith("test_") or path.name in ("uv.lock", "pyproject.toml", "conftest.py"):
        return True
    return any(path.is_relative_to(root / folder) for folder in ("checker", "fixtures"))


class WorkerGone(Exception):
    """The worker process died or stopped answering; start a new one."""


# The worker's program. Not ``python -m checker.warm``: its state must live in the module
# checker.warm, which the forks of a check import (``note_learned``), not in __main__.
_SERVE = "import sys, pathlib, checker.warm; checker.warm.serve(pathlib.Path(sys.argv[1]))"


class WarmWorker:
    """The client side: starts the worker and sends it checks."""

    def __init__(self, kata: KataPaths):
        self.kata = kata
        self.process: subprocess.Popen | None = None

    def start(self) -> WarmWorker:
        log = self.kata.state / "warm-worker.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(self.kata.root)],
                cwd=self.kata.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        if not self.alive:
            self.start()
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
            line = process.stdout.readline()
        except (BrokenPipeError, OSError) as err:
            raise WorkerGone(str(err)) from err
        if not line:
            raise WorkerGone(f"the warm worker exited (status {process.poll()})")
        return json.loads(line)

    def warm(self, modules: list[str]) -> None:
        """Import ``modules`` in the worker (failures are ignored)."""
        self._ask({"op": "warm", "modules": modules})

    def run(self, args: list[str], cwd: Path, timeout: float, scratch: Path) -> ProcessOutcome:
        """Run ``pytest args`` in a forked child: a ``checker.runners.Runner`` like ``cold_run``.

        If the worker itself died, it is started again and this check runs cold.
        """
        start = time.monotonic()
        output = scratch / "output.txt"
        request = {
            "op": "check",
            "args": args,
            "cwd": str(cwd),
            "output": str(output),
            "timeout": timeout,
            # The services `kata watch` keeps running (checker.services.WatchServices),
            # named after the worker started: a cold run inherits them anyway.
            "env": {k: v for k, v in os.environ.items() if k.startswith(SERVICE_PREFIX)},
        }
        try:
            reply = self._ask(request)
        except WorkerGone:
            self.restart()
            return cold_run(args, cwd, timeout, scratch)
        text = output.read_text(encoding="utf-8", errors="replace") if output.exists() else ""
        return ProcessOutcome(
            reply["returncode"], reply["timed_out"], text, time.monotonic() - start
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin:
                process.stdin.close()  # an idle worker exits at once
        with contextlib.suppress(ProcessLookupError):
            process.terminate()  # a busy one kills its check first (see serve)
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


class WarmPool:
    """Warm workers shared by the threads of ``kata check module_NN``: Python, pytest
    and MLflow start once per worker instead of once per exercise.

    ``runner(exercise)`` is a ``checker.runners.Runner`` that borrows an idle worker,
    imports the exercise's libraries into it and checks the exercise in a fork.
    """

    def __init__(self, kata: KataPaths, size: int):
        self.kata = kata
        self.workers = [WarmWorker(kata).start() for _ in range(size)]
        self.idle: queue.Queue[WarmWorker] = queue.Queue()
        for worker in self.workers:
            self.idle.put(worker)

    def runner(self, exercise: Exercise) -> Runner:
        def run(args: list[str], cwd: Path, timeout: float, scratch: Path) -> ProcessOutcome:
            worker = self.idle.get()
            try:
                with contextlib.suppress(WorkerGone):  # run() below starts it again
                    worker.warm(imports_of(self.kata, exercise))
                return worker.run(args, cwd, timeout, scratch)
            finally:
                self.idle.put(worker)

        return run

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


def pool_for(kata: KataPaths, jobs: int):
    """A factory for ``checker.check.check_exercises``: warm workers (one per job) for a
    check of several exercises, or None (one exercise, or no fork on this system).

    Starting Python, pytest and MLflow costs 2-4 s; a worker pays it once and
    checks each exercise in a fork, with the same isolation as a new process.
    """

    def make(to_run: list[Exercise]) -> WarmPool | None:
        if len(to_run) < 2 or not can_fork():
            return None
        return WarmPool(kata, min(max(jobs, 1), len(to_run)))

    return make


# --- the worker process -----------------------------------------------------------------


def _import_quietly(modules: list[str]) -> None:
    import_quietly(modules, _import_one)


def _import_one(name: str) -> None:
    if name == "litellm":
        _import_litellm()
    else:
        importlib.import_module(name)


def _import_litellm() -> None:
    """litellm is hidden from tests (``checker.isolation.hide_litellm``): import it here,
    hidden again, so that a check whose tests take the ``litellm`` fixture finds it
    loaded instead of importing it for about 4 s."""
    from checker import isolation

    isolation.allow_litellm()
    try:
        importlib.import_module("litellm")
    finally:
        isolation.hide_litellm()


_ROOT: dict[str, Path] = {}  # the kata's folder, whose modules are never learned


def preloaded(root: Path, mlflow: bool) -> list[str]:
    """What the worker imports before its first check: pytest's plugins, ``BASE_MODULES``,
    MLflow's first uses if ``mlflow``, the kata's test kit."""
    from _pytest.config import default_plugins

    plugins = [f"_pytest.{name}" for name in default_plugins]
    return plugins + BASE_MODULES + (MLFLOW_ON_FIRST_USE if mlflow else []) + conftest_plugins(root)


def _prepare(root: Path) -> None:
    """Everything a check needs that does not depend on the learner's code."""
    _ROOT["kata"] = root.resolve()
    # ``python -c`` puts the working directory ("") first on the path: a check's child
    # works in the test's folder, where it must not find modules by their bare names.
    sys.path[:] = [str(root), *(entry for entry in sys.path if entry not in ("", "."))]
    from checker import isolation

    isolation.apply_test_env()  # the same offline environment the children test in
    mlflow = os.environ.get(WARM_MLFLOW) != "0"
    _import_quietly(preloaded(root, mlflow))
    if not mlflow:
        return
    from checker.store import template_db

    template_db(KataPaths(root).state / "cache")  # built once, copied for every test
    _fill_caches()


def _fill_caches() -> None:
    """Fill the caches MLflow would otherwise fill afresh in every check: they hold only
    what is installed, which the worker restarts for (``restarts_worker``)."""
    from mlflow.utils import requirements_utils

    # Which package provides each module: every logged model's requirements (0.55 s).
    with contextlib.suppress(Exception):
        requirements_utils._init_modules_to_packages_map()


def learned_modules(before: set[str], root: Path) -> list[str]:
    """The library modules imported since ``before`` (in the order they were imported):
    those with a file outside the kata's folder, none of ``NEVER_LEARNED``."""
    learned = []
    for name, module in list(sys.modules.items()):
        if name in before or name.split(".", 1)[0] in NEVER_LEARNED:
            continue
        file = getattr(module, "__file__", None)
        if file and not Path(file).resolve().is_relative_to(root):
            learned.append(name)
    return learned


# Where a warm check's processes (pytest, and its --kata-forks children, which run the
# tests) note the modules they learned, one name per line, as they end.
LEARN_FILE = "KATA_LEARN_FILE"


def note_learned(before: set[str]) -> None:
    """In a process of a warm check, as it ends: add the library modules it imported
    since ``before`` to the file named by ``$KATA_LEARN_FILE`` (nothing in a cold run)."""
    path, root = os.environ.get(LEARN_FILE), _ROOT.get("kata")
    if not path or root is None:
        return
    with contextlib.suppress(Exception), open(path, "a", encoding="utf-8") as notes:
        notes.write("".join(f"{name}\n" for name in learned_modules(before, root)))


def _learned_file(output: str) -> Path:
    return Path(output + ".learned")


def _run_child(args: list[str], cwd: str, output: str, env: dict[str, str]) -> None:
    """In the forked child: run pytest with its output in ``output``, then write the
    library modules it imported next to it; never return."""
    code = 3
    before = set(sys.modules)
    try:
        os.environ.update(env)
        os.environ[LEARN_FILE] = str(_learned_file(output))
        os.setpgid(0, 0)  # the worker kills this whole group at the timeout
        out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # input() fails instead of waiting
        os.chdir(cwd)
        import pytest

        # The worker imported the kata's plugins before pytest could rewrite their asserts.
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        code = int(pytest.main([*args, *quiet]))
    except BaseException:  # noqa: BLE001 - whatever happens, the child must end here
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        note_learned(before)
        os._exit(code)


_RUNNING: dict[str, int] = {}  # the pid of the check being run, if any


def _stop(signum, frame) -> None:
    """SIGTERM (``WarmWorker.stop``, Ctrl-C in ``kata``): end the running check, then exit."""
    pid = _RUNNING.get("pid")
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    os._exit(128 + signum)


def serve(root: Path) -> None:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to the log, not into the replies
    signal.signal(signal.SIGTERM, _stop)
    _prepare(root)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "warm":
            _import_quietly(request["modules"])
            replies.write(json.dumps({"ok": True}) + "\n")
            continue
        start = time.monotonic()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _run_child(request["args"], request["cwd"], request["output"], request.get("env", {}))
        _RUNNING["pid"] = pid
        returncode, timed_out = wait_for_child(pid, float(request["timeout"]))
        _RUNNING.pop("pid", None)
        reply = {
            "returncode": returncode,
            "timed_out": timed_out,
            "duration": time.monotonic() - start,
        }
        learned = _read_learned(request["output"])  # before kata removes the check's folder
        replies.write(json.dumps(reply) + "\n")
        _import_quietly([name for name in learned if name not in sys.modules])


def _read_learned(output: str) -> list[str]:
    """What the check's processes imported on first use (see ``note_learned``)."""
    learned = _learned_file(output)
    try:
        modules = learned.read_text(encoding="utf-8").split()
    except OSError:
        return []
    learned.unlink()
    return list(dict.fromkeys(modules))
