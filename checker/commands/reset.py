"""``kata reset``: the stub as shipped, with a backup of the learner's file."""

from __future__ import annotations

import sys

from rich.text import Text

from checker.commands import CommandError
from checker.manifest import KataPaths, load_manifest
from checker.progress import Progress, backup_file


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
