"""The ``kata`` command line: its parser, and ``main``, which runs one of
``checker/commands/`` (progress, check, hint, diff, watch, reset, ui, verify)."""

import argparse
import signal
import sys
from pathlib import Path

from rich.text import Text

from checker.commands import CommandError
from checker.commands.check import cmd_check
from checker.commands.diff import cmd_diff
from checker.commands.hint import cmd_hint
from checker.commands.overview import cmd_list
from checker.commands.reset import cmd_reset
from checker.commands.ui import cmd_ui
from checker.commands.verify import cmd_verify
from checker.commands.watch import cmd_watch
from checker.console import make_console
from checker.manifest import KataPaths, ManifestError

EPILOG = """\
exercise names: a full id (module_01/ex01_mlflow_setup), module_01/ex01,
ex01_mlflow_setup, ex01 when only one module has it, or the file's path.

Start with `kata` to see where you are, edit the next exercise's file, then
`kata check` (or `kata watch` to re-check on every save)."""


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
        "--update-caught-by",
        action="store_true",
        help="write into each wrong solution's TOML the test that caught it (run first next time)",
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
