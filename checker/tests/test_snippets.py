"""The lessons' snippet runner (checker/snippets.py): each snippet in a fork of its own,
several at once, outcomes in the lesson's order."""

import pytest

from checker.snippets import NOT_A_LEARNERS, run_at_once, snippets

FENCE = "`" * 3


def _lesson(*blocks: str, fragment: str = "") -> str:
    parts = ["# A lesson\n"]
    for code in blocks:
        parts.append(f"Some prose.\n\n{FENCE}python\n{code}\n{FENCE}\n")
    if fragment:
        parts.append(
            f"<!-- fragment: needs the code above -->\n{FENCE}python\n{fragment}\n{FENCE}\n"
        )
    return "\n".join(parts)


@pytest.fixture
def learners_env(monkeypatch):
    for name in NOT_A_LEARNERS:
        monkeypatch.delenv(name, raising=False)


def _run(tmp_path, markdown, timeout=60.0, at_once=3):
    lesson = tmp_path / "README.md"
    lesson.write_text(markdown, encoding="utf-8")
    template = tmp_path / "template.db"
    template.write_bytes(b"")
    runnable = [(lesson, s) for s in snippets(markdown) if not s.fragment]
    return run_at_once(runnable, template, timeout, at_once)


def test_a_fragment_is_not_run_and_the_others_report_in_lesson_order(tmp_path, learners_env):
    markdown = _lesson("print('one')", "raise ValueError('two')", fragment="undefined_name")

    outcomes = _run(tmp_path, markdown)

    assert [(o.ok, o.output.splitlines()[-1]) for o in outcomes] == [
        (True, "one"),
        (False, "ValueError: two"),
    ]


def test_each_snippet_runs_in_an_empty_folder_of_its_own_with_an_empty_store(
    tmp_path, learners_env
):
    code = "import os\nprint(sorted(os.listdir('.')), os.path.getsize('mlflow.db'))"

    outcomes = _run(tmp_path, _lesson(code, code))

    assert [o.output for o in outcomes] == ["['mlflow.db'] 0", "['mlflow.db'] 0"]


def test_snippets_run_at_the_same_time(tmp_path, learners_env):
    # Each waits until the other has started: only concurrent runs can both succeed.
    mine, theirs = tmp_path / "a.started", tmp_path / "b.started"
    wait = (
        "import pathlib, time\n"
        "pathlib.Path({me!r}).touch()\n"
        "deadline = time.monotonic() + 20\n"
        "while not pathlib.Path({other!r}).exists():\n"
        "    assert time.monotonic() < deadline, 'ran alone'\n"
        "    time.sleep(0.01)\n"
    )
    first = wait.format(me=str(mine), other=str(theirs))
    second = wait.format(me=str(theirs), other=str(mine))

    outcomes = _run(tmp_path, _lesson(first, second), at_once=2)

    assert [o.ok for o in outcomes] == [True, True], [o.output for o in outcomes]


def test_a_snippet_that_runs_out_of_time_is_stopped_and_says_so(tmp_path, learners_env):
    outcomes = _run(tmp_path, _lesson("import time\ntime.sleep(60)", "print('after')"), 1.0)

    assert not outcomes[0].ok and outcomes[0].output.startswith("still running after 1 s")
    assert outcomes[1].ok and outcomes[1].output == "after"


def test_the_snippets_of_several_lessons_run_in_one_go_each_outcome_naming_its_lesson(
    tmp_path, learners_env
):
    first, second = tmp_path / "one" / "README.md", tmp_path / "two" / "README.md"
    for lesson, text in ((first, "print('first')"), (second, "print('second')")):
        lesson.parent.mkdir()
        lesson.write_text(_lesson(text, text.replace("')", " again')")), encoding="utf-8")
    template = tmp_path / "template.db"
    template.write_bytes(b"")
    runnable = [(p, s) for p in (first, second) for s in snippets(p.read_text(encoding="utf-8"))]

    outcomes = run_at_once(runnable, template, 60.0, at_once=3)

    assert [(o.lesson, o.output) for o in outcomes] == [
        (str(first), "first"),
        (str(first), "first again"),
        (str(second), "second"),
        (str(second), "second again"),
    ]
