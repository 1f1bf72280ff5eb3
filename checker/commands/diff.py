"""``kata diff``: the learner's file against the reference solution."""

from __future__ import annotations

from checker.commands import CommandError
from checker.console import (
    KATA,
    print_diff,
)
from checker.manifest import KataPaths, load_manifest
from checker.progress import DONE, Progress


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
