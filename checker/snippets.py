"""The lessons' Python snippets, run as written, each in an empty folder.

    python -m checker.snippets results.json .kata/cache exercises/module_04/README.md ...

Every fenced ``python`` block of a lesson must run as written in an empty folder,
offline, with MLflow's defaults (async trace logging on, ``./mlflow.db``), so that
what a learner pastes works. A block that is only a fragment (it needs code from
elsewhere) says so on the line before it, where the rendered page hides it:

    <!-- fragment: uses the agent built above -->
    ```python
    ...

This module imports MLflow once, with what it imports on first use (``checker.preload``:
its SQL stores alone take 1.4 s) and what the snippets' libraries do (skops for
scikit-learn, 4 s), then runs each snippet of all the lessons named in a fork of itself
(a fresh process state, a fresh empty folder), with the network guard on (connections
beyond loopback fail as on an offline machine, with an ``OSError`` that code may catch)
and a time limit; it writes what happened to a JSON file, in the lessons' order. Up to
``AT_ONCE`` snippets run at the same time: a snippet spends much of its time waiting
(MLflow's background trace writer looks at its queue once a second, so
``flush_trace_async_logging()`` waits up to a second).
The folder holds one file: an empty ``mlflow.db``, exactly as MLflow creates it on
first use (copied from the checker's migrated template, which saves the 1-2 s
migration per snippet).
``checker/tests/test_exercise_contract.py`` runs it once for all the lessons of a
``kata verify``, with the fake LLM server answering (judges get "yes").
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

FRAGMENT = re.compile(r"^<!--\s*fragment\b", re.IGNORECASE)
# Seconds per snippet: a Spark one takes 20 s on a quiet machine, minutes on a busy one.
TIMEOUT = 300.0
# Snippets run at the same time (see above); a Spark one computes, the others mostly wait.
AT_ONCE = 3
# Variables the tests set that a learner's shell does not: snippets run with MLflow's
# defaults (asynchronous trace logging, ./mlflow.db in the working folder).
NOT_A_LEARNERS = ("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@dataclass
class Snippet:
    line: int  # where its code starts in the lesson (1-based)
    code: str
    fragment: bool


@dataclass
class Outcome:
    lesson: str  # the lesson's path, as given
    line: int
    ok: bool
    seconds: float
    output: str  # the end of what it printed, or why it failed


def snippets(markdown: str) -> list[Snippet]:
    """The ``python`` blocks of a lesson, in order."""
    found, lines = [], markdown.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```python":
            before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            start = index + 1
            end = next((i for i in range(start, len(lines)) if lines[i].strip() == "```"), None)
            if end is None:
                break
            code = "\n".join(lines[start:end]) + "\n"
            found.append(Snippet(start + 1, code, bool(FRAGMENT.match(before.strip()))))
            index = end
        index += 1
    return found


def run(lessons: list[Path], results: Path, cache: Path, timeout: float = TIMEOUT) -> list[Outcome]:
    """Run every snippet of ``lessons`` that is not a fragment; write the outcomes.
    ``cache`` holds the migrated template store (``checker.store``)."""
    for name in NOT_A_LEARNERS:
        os.environ.pop(name, None)
    runnable = [
        (lesson, snippet)
        for lesson in lessons
        for snippet in snippets(lesson.read_text(encoding="utf-8"))
        if not snippet.fragment
    ]
    from checker.preload import MLFLOW_ON_FIRST_USE, first_uses, import_quietly, imported_by
    from checker.store import template_db

    # Loaded once, before the forks. litellm (about 4 s): MLflow imports it to evaluate
    # and to price every LLM span. The snippets' own libraries are not: a library may
    # read its settings at import (DSPy its cache folder), which a snippet may set first.
    libraries = first_uses(
        [name for _, snippet in runnable for name in imported_by(snippet.code, nested=False)]
    )
    import_quietly([*MLFLOW_ON_FIRST_USE, "litellm", *libraries])
    template = template_db(cache)
    outcomes = run_at_once(runnable, template, timeout)
    results.write_text(json.dumps([asdict(o) for o in outcomes], indent=2), encoding="utf-8")
    return outcomes


def run_at_once(
    runnable: list[tuple[Path, Snippet]], template: Path, timeout: float, at_once: int = AT_ONCE
) -> list[Outcome]:
    """Run the (lesson, snippet) pairs, ``at_once`` at a time, each in a fork; their
    outcomes in order."""
    waiting, done = list(runnable), {}
    running: list[_Running] = []
    while waiting or running:
        while waiting and len(running) < at_once:
            running.append(_start(*waiting.pop(0), template, timeout))
        time.sleep(0.01)
        for child in list(running):
            outcome = _outcome_if_over(child)
            if outcome is not None:
                running.remove(child)
                done[child.lesson, child.snippet.line] = outcome
    return [done[lesson, snippet.line] for lesson, snippet in runnable]


@dataclass
class _Running:
    lesson: Path
    snippet: Snippet
    pid: int
    folder: Path
    output: Path
    started: float
    deadline: float


def _start(lesson: Path, snippet: Snippet, template: Path, timeout: float) -> _Running:
    folder = Path(tempfile.mkdtemp(prefix="kata-snippet-"))
    shutil.copyfile(template, folder / "mlflow.db")
    output = folder.parent / f"{folder.name}.output.txt"
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(lesson, snippet, folder, output)
    return _Running(lesson, snippet, pid, folder, output, started, started + timeout)


def _outcome_if_over(child: _Running) -> Outcome | None:
    """The snippet's outcome if it has ended or run out of time (then its group is
    killed), else None."""
    done, status = os.waitpid(child.pid, os.WNOHANG)
    timed_out = not done and time.monotonic() >= child.deadline
    if not done and not timed_out:
        return None
    if timed_out:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        _, status = os.waitpid(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - child.started
    text = ""
    if child.output.exists():
        text = child.output.read_text(encoding="utf-8", errors="replace")
    child.output.unlink(missing_ok=True)
    shutil.rmtree(child.folder, ignore_errors=True)
    tail = "\n".join(text.strip().splitlines()[-25:])
    if timed_out:
        tail = f"still running after {child.deadline - child.started:g} s\n{tail}"
    elif code != 0:
        tail = f"exit code {code}\n{tail}"
    ok = code == 0 and not timed_out
    return Outcome(str(child.lesson), child.snippet.line, ok, round(seconds, 2), tail)


def _child(lesson: Path, snippet: Snippet, folder: Path, output: Path) -> None:
    code = 1
    try:
        os.setpgid(0, 0)
        out = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        # Streams on those descriptors, as a new Python has (the parent's may be pytest's).
        sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        os.chdir(folder)
        os.environ["DSPY_CACHEDIR"] = str(folder / ".dspy_cache")  # not the learner's ~/.dspy_cache
        from checker import netguard

        netguard.install(like_an_offline_machine=True)
        compiled = compile(snippet.code, f"{lesson}:{snippet.line}", "exec")
        exec(compiled, {"__name__": "__main__"})  # noqa: S102 - a lesson's own snippet
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported as the snippet's failure
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    run([Path(arg) for arg in sys.argv[3:]], Path(sys.argv[1]), Path(sys.argv[2]))
