"""``kata hint``: the next hint of an exercise, gentlest first."""

from __future__ import annotations

from rich.text import Text

from checker.console import (
    KATA,
)
from checker.manifest import Exercise, KataPaths, load_manifest
from checker.progress import Progress


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
