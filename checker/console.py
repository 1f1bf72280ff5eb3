"""What ``kata`` prints: the progress table, a condensed check result, a coloured diff.

Only rich is imported here; nothing from MLflow or pytest.
"""

import difflib
import re
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from checker.manifest import Exercise, KataPaths
from checker.progress import DONE, EXIT, NOT_STARTED, CheckResult
from checker.report import Report, condense

KATA = "uv run kata"  # how the learner runs it, in every suggestion we print

STATUS_STYLE = {DONE: "green", NOT_STARTED: "dim", "failing": "red"}
STATUS_MARK = {DONE: "✔", NOT_STARTED: "·", "failing": "✘"}


def make_console() -> Console:
    return Console(highlight=False)


# --- the progress table ------------------------------------------------------


def print_overview(console: Console, data: dict) -> None:
    """The table of modules and exercises, the overall progress and what to do next."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    rows: list[tuple[str | Text, ...]] = []
    next_id = data["next"]["id"] if data["next"] else None
    for index, module in enumerate(data["modules"]):
        if index and data["modules"][index - 1]["exercises"]:
            rows.append(("", "", "", ""))  # a blank line after a module's exercises
        count = f"{module['done']}/{module['total']}" if module["total"] else "no exercises yet"
        rows.append(
            (
                "",
                Text(module["id"], style="bold"),
                Text(module["title"], style="bold"),
                Text(
                    count, style="bold green" if module["done"] == module["total"] > 0 else "bold"
                ),
            )
        )
        for exercise in module["exercises"]:
            rows.append(_exercise_row(exercise, exercise["id"] == next_id))
    # Only the titles give way (with an ellipsis) when the terminal is narrow.
    widths = [max((len(str(row[i])) for row in rows), default=0) for i in range(4)]
    room = console.width - 1 - widths[1] - widths[3] - 6  # 3 gaps of 2 spaces
    widths[2] = max(12, min(widths[2], room))
    for name, width in zip(("mark", "exercise", "title", "status"), widths, strict=True):
        table.add_column(name, width=max(width, 1), no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    console.print(Text("MLflow 3 GenAI kata", style="bold"))
    console.print()
    console.print(table)
    console.print()
    console.print(_progress_line(data["done"], data["total"]))
    _print_next(console, data)


def _exercise_row(exercise: dict, is_next: bool) -> tuple:
    status = exercise["status"]
    kind = status if status in STATUS_STYLE else "failing"
    if is_next:
        mark = Text("→", style="bold yellow")
    else:
        mark = Text(STATUS_MARK[kind], style=STATUS_STYLE[kind])
    summary = Text(exercise["summary"], style=STATUS_STYLE[kind])
    if exercise["edited_since_check"]:
        summary.append(" (edited: re-check)", style="yellow")
    name = Text("  " + exercise["id"].split("/", 1)[1], style="bold yellow" if is_next else "")
    return mark, name, Text(exercise["title"]), summary


def _progress_line(done: int, total: int, width: int = 30) -> Text:
    filled = round(width * done / total) if total else 0
    line = Text("Progress ")
    line.append("━" * filled, style="green")
    line.append("━" * (width - filled), style="grey23")
    percent = round(100 * done / total) if total else 0
    line.append(f" {done}/{total} exercises done ({percent}%)")
    return line


def _print_next(console: Console, data: dict) -> None:
    following = data["next"]
    if data["total"] == 0:
        console.print("The manifest lists no exercises yet.")
        return
    if following is None:
        console.print(Text("Every exercise is done. Well done!", style="bold green"))
        return
    console.print(
        Text.assemble("Next: ", (following["id"], "bold yellow"), f"  {following['title']}")
    )
    console.print(
        Text.assemble(
            "  open ",
            (following["file"], "cyan"),
            ", then ",
            (f"{KATA} check", "bold"),
            " (or ",
            (f"{KATA} watch", "bold"),
            " to re-check on every save)",
        )
    )


# --- a check result ----------------------------------------------------------


def print_result(
    console: Console,
    kata: KataPaths,
    exercise: Exercise,
    result: CheckResult,
    detail=True,
    shown_already: str | None = None,
) -> None:
    """One line for the exercise, then (with ``detail``) its first failure, condensed,
    unless that failure of the test ``shown_already`` was printed as it happened."""
    kind = result.status if result.status in STATUS_STYLE else "failing"
    line = Text(f"{STATUS_MARK[kind]} ", style=STATUS_STYLE[kind])
    line.append(exercise.id, style="bold")
    line.append(f"  {_headline(result)}", style=STATUS_STYLE[kind])
    if result.cached:
        line.append("  (unchanged since last check; --force re-runs)", style="dim")
    elif result.duration:
        line.append(f"  ({result.duration:.1f} s)", style="dim")
    console.print(line)
    if not detail:
        return
    if result.status == DONE:
        console.print(
            Text.assemble(
                "  Compare with the reference solution: ",
                (f"{KATA} diff {exercise.id}", "bold"),
            )
        )
        return
    if result.status == NOT_STARTED:
        console.print(
            Text.assemble(
                "  Open ",
                (kata.relative(kata.stub(exercise)), "cyan"),
                " and replace the NotImplementedError TODOs.",
            )
        )
        return
    if result.test != shown_already or not result.test:
        _print_failure(console, kata, exercise, result.test, result.message, result.where)
    tips = [("Full output: ", ""), (f"{KATA} check {exercise.id} -v", "bold")]
    if exercise.hints:
        tips = [("Stuck? ", ""), (f"{KATA} hint {exercise.id}", "bold"), ("  ·  ", "")] + tips
    console.print(Text.assemble("  ", *tips, style="dim"))


def _print_failure(
    console: Console,
    kata: KataPaths,
    exercise: Exercise,
    test: str | None,
    message: str,
    where: str | None,
    prefix: str = "  ",
) -> None:
    if test:
        console.print(Text(f"{prefix}{test}", style="bold"))
    console.print(Text(_indent(message, prefix + "  ")))
    if where:
        console.print(_where(kata, exercise, where))


class LiveResults:
    """A check as it runs: the first failure printed the moment it lands, and a count of
    the tests so far in the status line. Call it with each new report."""

    def __init__(self, console: Console, kata: KataPaths, exercise: Exercise, status=None):
        self.console, self.kata, self.exercise, self.status = console, kata, exercise, status
        self.first_failure: str | None = None  # the name of the test already printed

    def __call__(self, report: Report) -> None:
        failures = report.failures
        if failures and self.first_failure is None:
            test = failures[0]
            self.first_failure = test.name
            failure = test.failure
            message = condense(failure.message or failure.exception or "failed") if failure else ""
            self.console.print(Text("  first failure:", style="red"))
            _print_failure(
                self.console, self.kata, self.exercise, test.name, message,
                failure.where if failure else None, prefix="    ",
            )  # fmt: skip
        if self.status is not None:
            done = report.passed + len(failures)
            self.status.update(
                f"Checking {self.exercise.id} ... {report.passed} passed, "
                f"{len(failures)} failed" + (f", {done} done so far" if done else "")
            )


def _headline(result: CheckResult) -> str:
    if result.status == DONE:
        return f"done: all {result.total} tests pass"
    if result.status == NOT_STARTED:
        return f"not started: all {result.total} tests raise NotImplementedError"
    if result.problem in (None, EXIT):
        return f"{result.passed}/{result.total} tests pass"
    return result.summary().removeprefix("failing: ")


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in (text or "").splitlines())


def _where(kata: KataPaths, exercise: Exercise, where: str) -> Text:
    """``at exercises/module_01/ex01_x.py:12 in func`` and that line of code."""
    match = re.match(r"^(.*):(\d+) in (.*)$", where)
    if not match:
        return Text(f"    at {where}", style="cyan")
    path = kata.stub(exercise)
    line_no = int(match.group(2))
    text = Text("    at ")
    text.append(f"{kata.relative(path)}:{line_no}", style="cyan")
    text.append(f" in {match.group(3)}")
    source = _source_line(path, line_no)
    if source:
        text.append(f"\n    {line_no:>5} │ {source}", style="yellow")
    return text


def _source_line(path: Path, line_no: int) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[line_no - 1].strip() if 0 < line_no <= len(lines) else None


# --- a diff --------------------------------------------------------------------


def print_diff(console: Console, old: str, new: str, old_name: str, new_name: str) -> bool:
    """A coloured unified diff of ``old`` against ``new``; False when they are equal."""
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
        )
    )
    if not lines:
        return False
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        console.print(Text(line, style=style), soft_wrap=True)
    return True


def print_note(console, progress) -> None:
    """The note progress.json left (an unreadable file was moved aside), if any."""
    if progress.note:
        console.print(Text(progress.note, style="yellow"))


def print_next(console, kata: KataPaths, following: Exercise | None) -> None:
    """What to do next: the next exercise not done, or well done."""
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
