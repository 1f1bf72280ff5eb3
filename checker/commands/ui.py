"""``kata ui``: the MLflow UI on a store that a test kept."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from pathlib import Path

from rich.text import Text

from checker.commands import CommandError
from checker.console import (
    KATA,
)
from checker.manifest import KataPaths
from checker.progress import kept_stores


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
