"""``kata watch``: re-check the current exercise on every save."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from checker.console import (
    LiveResults,
    print_next,
    print_note,
    print_result,
)
from checker.manifest import Exercise, KataPaths, load_manifest
from checker.progress import Progress


def cmd_watch(args, kata: KataPaths, console) -> int:
    import watchfiles

    from checker.check import CheckOptions, check_exercises
    from checker.runners import cold_run
    from checker.services import WatchServices
    from checker.warm import WarmWorker, WorkerGone, can_fork, imports_of, restarts_worker
    from checker.watch import Watcher, watch_loop

    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    print_note(console, progress)
    current = manifest.find(args.exercise) if args.exercise else None
    options = CheckOptions(timeout=args.timeout)
    worker = WarmWorker(kata) if can_fork() and not args.cold else None
    if worker:
        with console.status("Starting the warm worker (pytest and MLflow, loaded once) ..."):
            worker.start()
    warmed: set[str] = set()
    services = None if args.cold else WatchServices(kata.state / "watch", _template(kata))

    shown: dict[str, str | None] = {}  # the failure already printed as it happened

    def check(exercise):
        if services is not None:
            _start_services(console, services, kata.test_file(exercise))
        with console.status(f"Checking {exercise.id} ...") as status:
            live = LiveResults(console, kata, exercise, status)
            run = cold_run
            if worker is not None:
                if exercise.id not in warmed:  # its own imports: LangChain, LlamaIndex ...
                    try:
                        worker.warm(imports_of(kata, exercise))
                    except WorkerGone:
                        worker.restart()
                    warmed.add(exercise.id)
                run = worker.run
            [result] = check_exercises(
                kata, [exercise], progress, options, run=run, on_progress=lambda _, r: live(r)
            )
        shown[exercise.id] = live.first_failure
        return result

    def say(event, exercise, result):
        if event == "result":
            print_result(console, kata, exercise, result, shown_already=shown.get(exercise.id))
            if not result.ok:
                _waiting(console, kata, exercise)
        elif event == "next":
            console.print()
            print_next(console, kata, exercise)
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
        if services is not None:
            services.stop()
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


def _template(kata: KataPaths) -> Path | None:
    """The migrated template store, if a check has built it (a server then starts faster)."""
    from importlib.metadata import version

    template = kata.state / "cache" / f"template-mlflow-{version('mlflow')}.db"
    return template if template.is_file() else None


def _start_services(console, services, test_file: Path) -> None:
    """Start what the exercise's tests need, once per watch; name it in the environment."""
    import os

    from checker.services import ServiceError

    needs = services.needed_by(test_file.read_text(encoding="utf-8"))
    missing = (("mlflow_server" in needs and services.mlflow is None)
               or ("gateway_mlflow_server" in needs and services.gateway is None)
               or ("spark" in needs and services.spark is None))  # fmt: skip
    try:
        if missing:
            with console.status("Starting the servers these tests need (once per watch) ..."):
                env = services.environment_for(test_file)
        else:
            env = services.environment_for(test_file)
    except ServiceError as err:
        console.print(Text(f"{err}\nChecking with a server per check instead.", style="yellow"))
        return
    os.environ.update(env)
