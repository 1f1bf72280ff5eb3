"""The ``kata`` command: progress, checks, hints, diffs, watch, reset, the MLflow UI, verify.

Every command imports only what it needs, so ``kata`` alone (the progress
table) shows at once: MLflow and pytest only ever run in subprocesses.
"""

import argparse
import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path

from rich.text import Text

from checker.manifest import Exercise, KataPaths, ManifestError, load_manifest
from checker.progress import DONE, Progress, backup_file, kept_stores, overview
from checker.ui import KATA, make_console, print_diff, print_overview, print_result

EPILOG = """\
exercise names: a full id (module_01/ex01_mlflow_setup), module_01/ex01,
ex01_mlflow_setup, ex01 when only one module has it, or the file's path.

Start with `kata` to see where you are, edit the next exercise's file, then
`kata check` (or `kata watch` to re-check on every save)."""


class CommandError(Exception):
    """A problem to report in one plain sentence, with exit status 1."""


# --- kata / kata list ---------------------------------------------------------


def cmd_list(args, kata: KataPaths, console) -> int:
    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    data = overview(kata, manifest, progress)
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2))
        return 0
    _note(console, progress)
    print_overview(console, data)
    return 0


def _note(console, progress: Progress) -> None:
    if progress.note:
        console.print(Text(progress.note, style="yellow"))


# --- kata check ---------------------------------------------------------------


def cmd_check(args, kata: KataPaths, console) -> int:
    from checker.check import CheckOptions, check_exercises

    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    _note(console, progress)
    if args.all:
        exercises = list(manifest.exercises)
    elif args.target:
        exercises = manifest.select(args.target)
    else:
        following = progress.next_exercise(manifest)
        if following is None:
            console.print(f"Every exercise is done. `{KATA} check --all` re-checks them all.")
            return 0
        exercises = [following]
    if not exercises:
        console.print(f"{args.target or 'The manifest'} has no exercises yet: nothing to check.")
        return 0
    options = CheckOptions(
        timeout=args.timeout,
        keep_store=args.keep_store,
        verbose=args.verbose,
        force=args.force,
        jobs=max(1, args.jobs),
    )
    if len(exercises) == 1:
        exercise = exercises[0]
        with console.status(f"Checking {exercise.id} ..."):
            [result] = check_exercises(kata, exercises, progress, options)
        if options.verbose:
            console.print(Text(result.output))
        print_result(console, kata, exercise, result)
        if result.ok:
            _print_next(console, kata, progress.next_exercise(manifest))
        return 0 if result.ok else 1
    results = _check_many(console, kata, exercises, progress, options)
    failing = [(e, r) for e, r in zip(exercises, results, strict=True) if r.status == "failing"]
    if failing:
        console.print()
        for exercise, result in failing:
            print_result(console, kata, exercise, result)
    done = sum(r.ok for r in results)
    console.print()
    console.print(Text(f"{done}/{len(results)} exercises pass.", style="bold"))
    if done < len(results):
        _print_next(console, kata, progress.next_exercise(manifest))
    return 0 if done == len(results) else 1


def _check_many(console, kata, exercises, progress, options):
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn
    from rich.progress import Progress as Bar

    from checker.check import check_exercises

    running: list[str] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Bar(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Checking", total=len(exercises))

        def describe():
            names = ", ".join(running) if running else "..."
            bar.update(task, description=f"Checking {names}")

        def on_start(exercise):
            running.append(exercise.id)
            describe()

        def on_done(exercise, result):
            if exercise.id in running:
                running.remove(exercise.id)
            if options.verbose and result.output:
                bar.console.print(Text(result.output))
            print_result(bar.console, kata, exercise, result, detail=False)
            bar.advance(task)
            describe()

        return check_exercises(kata, exercises, progress, options, on_start, on_done)


def _print_next(console, kata: KataPaths, following: Exercise | None) -> None:
    if following is None:
        console.print(Text("Every exercise is done. Well done!", style="bold green"))
        return
    console.print(
        Text.assemble(
            "Next: ",
            (following.id, "bold yellow"),
            f"  {following.title}\n  open ",
            (kata.relative(kata.stub(following)), "cyan"),
        )
    )


# --- kata hint ------------------------------------------------------------------


def cmd_hint(args, kata: KataPaths, console) -> int:
    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    exercise = _exercise_or_next(manifest, progress, args.exercise)
    if exercise is None:
        console.print("Every exercise is done: no hints needed.")
        return 0
    console.print(Text.assemble((exercise.id, "bold"), f"  {exercise.title}"))
    hints, shown = exercise.hints, progress.hints_shown(exercise.id)
    if not hints:
        console.print("This exercise has no hints.")
    elif args.all:
        for number, hint in enumerate(hints, 1):
            console.print(Text.assemble((f"Hint {number}/{len(hints)}: ", "bold yellow"), hint))
        shown = len(hints)
    elif shown >= len(hints):
        console.print(
            f"No more hints: you have seen all {len(hints)}. "
            f"`{KATA} hint {exercise.id} --all` shows them again; "
            f"`{KATA} diff {exercise.id} --peek` shows the reference solution."
        )
    else:
        console.print(
            Text.assemble((f"Hint {shown + 1}/{len(hints)}: ", "bold yellow"), hints[shown])
        )
        shown += 1
        more = f"`{KATA} hint {exercise.id}` again for the next one."
        console.print(Text(more if shown < len(hints) else "That was the last hint.", style="dim"))
    if hints:
        progress.set_hints_shown(exercise.id, shown)
        progress.save()
    _print_docs(console, exercise)
    return 0


def _print_docs(console, exercise: Exercise) -> None:
    for link in exercise.docs:
        console.print(Text.assemble("Docs: ", (link, "cyan")))


def _exercise_or_next(manifest, progress: Progress, name: str | None) -> Exercise | None:
    if name:
        return manifest.find(name)
    return progress.next_exercise(manifest)


# --- kata diff ------------------------------------------------------------------


def cmd_diff(args, kata: KataPaths, console) -> int:
    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    exercise = manifest.find(args.exercise)
    solution = kata.solution(exercise)
    if not solution.is_file():
        raise CommandError(f"The reference solution {kata.relative(solution)} is missing.")
    if progress.status(exercise.id) != DONE and not args.peek:
        raise CommandError(
            f"{exercise.id} does not pass yet, so its solution stays hidden: make "
            f"`{KATA} check {exercise.id}` pass first (`{KATA} hint {exercise.id}` helps). "
            f"To look anyway: `{KATA} diff {exercise.id} --peek`."
        )
    stub = kata.stub(exercise)
    mine = stub.read_text(encoding="utf-8") if stub.is_file() else ""
    theirs = solution.read_text(encoding="utf-8")
    mine_name = f"{kata.relative(stub)} (yours)"
    if not print_diff(console, mine, theirs, mine_name, kata.relative(solution)):
        console.print(f"{kata.relative(stub)} is identical to the reference solution.")
    return 0


# --- kata watch -----------------------------------------------------------------


def cmd_watch(args, kata: KataPaths, console) -> int:
    import watchfiles

    from checker.check import CheckOptions, check_exercises
    from checker.warm import WarmWorker, WorkerGone, can_fork, imports_of, restarts_worker
    from checker.watch import Watcher, watch_loop

    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    _note(console, progress)
    current = manifest.find(args.exercise) if args.exercise else None
    options = CheckOptions(timeout=args.timeout)
    worker = WarmWorker(kata) if can_fork() and not args.cold else None
    if worker:
        with console.status("Starting the warm worker (pytest and MLflow, loaded once) ..."):
            worker.start()
    warmed: set[str] = set()

    def check(exercise):
        with console.status(f"Checking {exercise.id} ..."):
            if worker is None:
                return check_exercises(kata, [exercise], progress, options)[0]
            if exercise.id not in warmed:  # its own imports: LangChain, LlamaIndex ...
                try:
                    worker.warm(imports_of(kata, exercise))
                except WorkerGone:
                    worker.restart()
                warmed.add(exercise.id)
            return check_exercises(kata, [exercise], progress, options, run=worker.run)[0]

    def say(event, exercise, result):
        if event == "result":
            print_result(console, kata, exercise, result)
            if not result.ok:
                _waiting(console, kata, exercise)
        elif event == "next":
            console.print()
            _print_next(console, kata, exercise)
            _waiting(console, kata, exercise)
        elif event == "all_done":
            console.print(Text("Every exercise is done. Well done!", style="bold green"))

    def changes():
        watched = [p for p in (kata.exercises, kata.root / "checker", kata.root / "fixtures")]
        watched += [kata.root / n for n in ("uv.lock", "pyproject.toml", "conftest.py")]
        watched = [p for p in watched if p.exists()]
        for batch in watchfiles.watch(*watched, watch_filter=_KataFilter(), debounce=800):
            paths = [path for _change, path in batch]
            if worker and any(restarts_worker(kata, Path(p)) for p in paths):
                worker.restart()  # the tests, the checker or the libraries changed
                warmed.clear()
            yield paths

    console.print(Text("Watching exercises/ (Ctrl-C to stop).", style="dim"))
    try:
        watch_loop(Watcher(kata, manifest, progress, current, check, say), changes())
    except KeyboardInterrupt:
        console.print("Stopped watching.")
    finally:
        if worker:
            worker.stop()
    return 0


class _KataFilter:
    """Python files, the lock and the project file; never caches or editor droppings."""

    def __init__(self):
        import watchfiles

        self.default = watchfiles.DefaultFilter()

    def __call__(self, change, path: str) -> bool:
        return self.default(change, path) and (
            path.endswith(".py") or Path(path).name in ("uv.lock", "pyproject.toml")
        )


def _waiting(console, kata: KataPaths, exercise: Exercise) -> None:
    console.print(
        Text.assemble(
            "Waiting for you to save ",
            (kata.relative(kata.stub(exercise)), "cyan"),
            " ...",
            style="dim",
        )
    )


# --- kata reset -----------------------------------------------------------------


def cmd_reset(args, kata: KataPaths, console) -> int:
    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    exercise = manifest.find(args.exercise)
    from checker.stubs import StubNotFound, shipped_stub

    stub = kata.stub(exercise)
    try:
        pristine = shipped_stub(kata.root, stub.relative_to(kata.root).as_posix())
    except StubNotFound as err:
        raise CommandError(f"Cannot restore the stub: {err}") from err
    if stub.is_file() and stub.read_bytes() == pristine:
        console.print(f"{kata.relative(stub)} is already the original stub: nothing to do.")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("Not asking without a terminal: add --yes to reset.")
        from rich.prompt import Confirm

        question = f"Replace {kata.relative(stub)} with the original stub (yours is kept)?"
        if not Confirm.ask(question, console=console, default=False):
            console.print("Nothing changed.")
            return 1
    backup = backup_file(kata, exercise) if stub.is_file() else None
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_bytes(pristine)
    progress.forget_check(exercise.id)
    progress.save()
    console.print(Text.assemble("Restored ", (kata.relative(stub), "cyan"), " to the original."))
    if backup:
        console.print(Text.assemble("Your version is in ", (kata.relative(backup), "cyan"), "."))
    return 0


# --- kata ui --------------------------------------------------------------------


def mlflow_ui_command(db: Path, host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", f"sqlite:///{db}",
        "--host", host, "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip


def choose_store(kata: KataPaths, pattern: str | None) -> Path:
    """The newest kept store, or the newest whose test id contains ``pattern``."""
    stores = kept_stores(kata)
    if not stores:
        raise CommandError(
            "No kept MLflow stores yet. Run a check that keeps them, e.g. "
            f"`{KATA} check module_01/ex01 --keep-store` or "
            "`uv run pytest exercises/module_01 --keep-store`, or pass --db PATH."
        )
    if not pattern:
        return stores[0]
    matching = [s for s in stores if pattern.lower() in s.parent.name.lower()]
    if not matching:
        names = "\n  ".join(s.parent.name for s in stores[:10])
        raise CommandError(f"No kept store matches '{pattern}'. The newest are:\n  {names}")
    return matching[0]


def cmd_ui(args, kata: KataPaths, console) -> int:
    if args.list:
        import datetime as dt

        stores = kept_stores(kata)
        if not stores:
            console.print(f"No kept MLflow stores yet (`{KATA} check ... --keep-store`).")
        for db in stores:
            when = dt.datetime.fromtimestamp(db.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
            console.print(Text.assemble((when, "dim"), "  ", db.parent.name), soft_wrap=True)
        return 0
    if args.db is not None:
        db = Path(args.db).resolve()
        if not db.is_file():
            raise CommandError(f"There is no database at {db}.")
    else:
        db = choose_store(kata, args.filter)
    command = mlflow_ui_command(db, args.host, args.port)
    if args.dry_run:
        print(" ".join(command))
        return 0
    console.print(
        Text.assemble(
            "MLflow UI on ", (kata.relative(db), "cyan"), " at ",
            (f"http://{args.host}:{args.port}", "bold"),
            " (it takes 10-20 s to start; Ctrl-C stops it)",
        )
    )  # fmt: skip
    return run_server(command, db.parent, console)


def run_server(command: list[str], cwd: Path, console) -> int:
    """Run the MLflow server in its own process group and stop all of it on the way out.

    ``mlflow ui`` starts uvicorn and job consumers; killing only the first
    process would leave them running, still holding the port.
    """
    import os

    server = subprocess.Popen(command, cwd=cwd, start_new_session=True)
    try:
        return server.wait()
    except KeyboardInterrupt:
        console.print("Stopping the MLflow UI ...")
        return 0
    finally:
        if hasattr(os, "killpg"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(server.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(server.pid, signal.SIGKILL)  # whatever ignored SIGTERM
        else:  # pragma: no cover - Windows
            server.kill()
        server.wait()


# --- kata verify ----------------------------------------------------------------


def cmd_verify(args, kata: KataPaths, console) -> int:
    from checker.verify import verify

    return verify(
        kata, args.modules, console, workers=args.workers, timeout=args.timeout, seed=args.seed
    )


# --- the parser -----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root", default=argparse.SUPPRESS, help="the kata checkout to use (default: this one)"
    )
    parser = argparse.ArgumentParser(
        prog="kata",
        description="A test-driven kata for MLflow 3 GenAI. With no command: your progress.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.set_defaults(handler=cmd_list, json=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name, handler, help_text, description=None):
        sub = commands.add_parser(
            name,
            help=help_text,
            description=description or help_text,
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    sub = command("list", cmd_list, "the progress table (what `kata` alone shows)")
    sub.add_argument("--json", action="store_true", help="print the same data as JSON, for tools")

    sub = command(
        "check",
        cmd_check,
        "run an exercise's tests and record your progress",
        "Run exercise tests, each file in its own pytest process, and record the results\n"
        "in .kata/progress.json.\n\n"
        "  kata check                  the current exercise: the first one, in manifest\n"
        "                              order, that is not done yet\n"
        "  kata check module_01        every exercise of a module (2 at a time)\n"
        "  kata check module_01/ex02   one exercise (short names work: ex02, ex02_slug)\n"
        "  kata check --all            every exercise\n\n"
        "An exercise whose file and test file have not changed since its last check is\n"
        "not run again: its last result is shown ('unchanged since last check'); --force,\n"
        "--keep-store and -v always re-run, and so does a check that timed out or\n"
        "crashed. Exit status 0 only when every selected exercise passes.",
    )
    sub.add_argument("target", nargs="?", help="module_NN or an exercise (default: the current)")
    sub.add_argument("--all", action="store_true", help="check every exercise")
    sub.add_argument("--force", action="store_true", help="re-run even unchanged exercises")
    sub.add_argument("-v", "--verbose", action="store_true", help="show pytest's full output")
    sub.add_argument(
        "--timeout", type=int, metavar="S", help="seconds per exercise (default: manifest, or 120)"
    )
    sub.add_argument(
        "--keep-store", action="store_true", help="keep each test's MLflow store for `kata ui`"
    )
    sub.add_argument(
        "-j", "--jobs", type=int, default=2, metavar="N", help="exercises in parallel (2)"
    )

    sub = command(
        "hint",
        cmd_hint,
        "show the next hint for an exercise",
        "Show the next hint for an exercise (default: the current one), gentlest first.\n"
        "kata remembers how many you have seen.",
    )
    sub.add_argument("exercise", nargs="?", help="the exercise (default: the current one)")
    sub.add_argument("--all", action="store_true", help="show every hint at once")

    sub = command(
        "diff",
        cmd_diff,
        "compare your file with the reference solution",
        "Show your exercise file against the reference solution as a unified diff.\n"
        "Only once the exercise passes `kata check`, unless you --peek.",
    )
    sub.add_argument("exercise", help="the exercise")
    sub.add_argument("--peek", action="store_true", help="show it even though it does not pass")

    sub = command(
        "watch",
        cmd_watch,
        "re-check the current exercise on every save",
        "Check the current exercise (or the one given), then re-check it each time you\n"
        "save its file. When it passes, move on to the next exercise not done. Saving\n"
        "another exercise's file switches to that exercise. Ctrl-C stops.\n"
        "A warm worker keeps pytest and MLflow loaded, so a re-check answers in about a\n"
        "second, with a fresh store and a fresh import of your file as always; --cold\n"
        "starts a new pytest process per check instead.",
    )
    sub.add_argument("exercise", nargs="?", help="where to start (default: the current one)")
    sub.add_argument("--timeout", type=int, metavar="S", help="seconds per check")
    sub.add_argument(
        "--cold", action="store_true", help="a new pytest process per check (no warm worker)"
    )

    sub = command(
        "reset",
        cmd_reset,
        "restore the original stub, keeping a backup of yours",
        "Restore an exercise's file to the stub as shipped: the newest committed version\n"
        "in which every function still raises NotImplementedError, so your own commits\n"
        "are skipped. Your version is first copied to\n"
        ".kata/backup/<module>/<name>-<date>-<time>.py.",
    )
    sub.add_argument("exercise", help="the exercise")
    sub.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    sub = command(
        "ui",
        cmd_ui,
        "open the MLflow UI on a store kept by --keep-store",
        "Run the MLflow UI on the MLflow store a test left behind. Stores are kept by\n"
        "`kata check --keep-store` or `pytest --keep-store`, one per test, under\n"
        ".kata/stores/. Default: the most recently written; FILTER picks the newest\n"
        "whose test id contains it.",
    )
    sub.add_argument("filter", nargs="?", help="part of a test id, e.g. ex02 or logs_params")
    sub.add_argument("--list", action="store_true", help="list the kept stores, newest first")
    sub.add_argument(
        "--db", nargs="?", const="mlflow.db", metavar="PATH", help="use this SQLite file instead"
    )
    sub.add_argument("--host", default="127.0.0.1", help="interface to listen on (127.0.0.1)")
    sub.add_argument("--port", type=int, default=5000, help="port (5000)")
    sub.add_argument("--dry-run", action="store_true", help="print the command, do not run it")

    sub = command(
        "verify",
        cmd_verify,
        "the maintainers' check (what CI runs)",
        "Check the kata itself: ruff lint and format; mypy; the manifest matches the\n"
        "files; then one pytest run, in random order: the checker's own tests pass;\n"
        "every exercise test passes on the reference solution, fails with\n"
        "NotImplementedError on the untouched stub, and every plausible wrong solution\n"
        "fails it. The run prints its seed (replay an order with --seed). Each step\n"
        "prints its time. The last line reads 'N passed, N failed'; the exit status is\n"
        "1 when anything failed.",
    )
    sub.add_argument("modules", nargs="*", metavar="module_NN", help="limit step 4 to these")
    sub.add_argument(
        "--seed", type=int, metavar="N", help="replay the test order of the run with this seed"
    )
    sub.add_argument(
        "-n", "--workers", type=int, default=2, help="pytest-xdist workers (2; 0 = none)"
    )
    sub.add_argument(
        "--timeout", type=int, default=1800, metavar="S", help="seconds per pytest step (1800)"
    )
    return parser


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds, so running checks are killed too


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if argv is None:  # the real command: a SIGTERM (CI cancel) must not orphan tests
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), _exit_on_signal)
    root = getattr(args, "root", None)
    kata = KataPaths(Path(root).resolve()) if root else KataPaths.default()
    console = make_console()
    try:
        return args.handler(args, kata, console)
    except (ManifestError, CommandError) as err:
        console.print(Text(str(err), style="red"))
        return 2 if isinstance(err, ManifestError) else 1
    except KeyboardInterrupt:
        console.print("Interrupted.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
