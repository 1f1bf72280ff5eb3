"""``kata check``: run exercises' tests, record and print what they found."""

from __future__ import annotations

from rich.text import Text

from checker.console import (
    KATA,
    LiveResults,
    print_next,
    print_note,
    print_result,
)
from checker.manifest import KataPaths, load_manifest
from checker.progress import Progress


def cmd_check(args, kata: KataPaths, console) -> int:
    from checker.check import CheckOptions, check_exercises

    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    print_note(console, progress)
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
        with console.status(f"Checking {exercise.id} ...") as status:
            live = LiveResults(console, kata, exercise, status)
            [result] = check_exercises(
                kata, exercises, progress, options, on_progress=lambda _, report: live(report)
            )
        if options.verbose:
            console.print(Text(result.output))
        print_result(console, kata, exercise, result, shown_already=live.first_failure)
        if result.ok:
            print_next(console, kata, progress.next_exercise(manifest))
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
        print_next(console, kata, progress.next_exercise(manifest))
    return 0 if done == len(results) else 1


def _check_many(console, kata, exercises, progress, options):
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn
    from rich.progress import Progress as Bar

    from checker.check import check_exercises
    from checker.warm import pool_for

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

        return check_exercises(
            kata, exercises, progress, options, on_start, on_done, pool=pool_for(kata, options.jobs)
        )
