"""`kata watch`: re-check on save, move on when it passes (driven by fake file events)."""

from checker.manifest import load_manifest
from checker.progress import DONE, FAILING, CheckResult, Progress
from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata
from checker.watch import Watcher, watch_loop

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests


class Script:
    """A fake check: each exercise id gets its scripted statuses in turn."""

    def __init__(self, progress, **statuses):
        self.progress = progress
        self.statuses = {k.replace("__", "/"): list(v) for k, v in statuses.items()}
        self.checked = []
        self.events = []

    def check(self, exercise):
        self.checked.append(exercise.id)
        result = CheckResult(exercise.id, self.statuses[exercise.id].pop(0))
        self.progress.record(result)
        return result

    def say(self, event, exercise, result):
        self.events.append((event, exercise.id if exercise else None))


def setup(tmp_path, **statuses):
    kata = make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_add"),
        FakeExercise("module_01/ex02_sub"),
    )
    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    script = Script(progress, **statuses)
    watcher = Watcher(kata, manifest, progress, None, script.check, script.say)
    return kata, watcher, script


def saved(kata, *relative):
    return [str(kata.exercises / r) for r in relative]


def test_watch_checks_the_current_exercise_at_once_and_on_every_save(tmp_path):
    kata, watcher, script = setup(tmp_path, module_01__ex01_add=[FAILING, FAILING, FAILING])
    stub = "module_01/ex01_add.py"
    watch_loop(watcher, [saved(kata, stub), saved(kata, stub)])
    assert script.checked == ["module_01/ex01_add"] * 3


def test_watch_ignores_saves_of_files_that_are_no_exercise(tmp_path):
    kata, watcher, script = setup(tmp_path, module_01__ex01_add=[FAILING])
    watch_loop(watcher, [saved(kata, "module_01/notes.py"), [str(tmp_path / "elsewhere.py")]])
    assert script.checked == ["module_01/ex01_add"]


def test_watch_moves_on_to_the_next_exercise_when_the_current_passes(tmp_path):
    kata, watcher, script = setup(
        tmp_path, module_01__ex01_add=[FAILING, DONE], module_01__ex02_sub=[FAILING]
    )
    watch_loop(
        watcher, [saved(kata, "module_01/ex01_add.py"), saved(kata, "module_01/ex02_sub.py")]
    )
    assert ("next", "module_01/ex02_sub") in script.events
    assert script.checked == ["module_01/ex01_add", "module_01/ex01_add", "module_01/ex02_sub"]


def test_watch_stops_when_every_exercise_is_done(tmp_path):
    kata, watcher, script = setup(tmp_path, module_01__ex01_add=[DONE], module_01__ex02_sub=[DONE])
    events = [saved(kata, "module_01/ex02_sub.py"), saved(kata, "module_01/ex02_sub.py")]
    watch_loop(watcher, events)
    assert script.events[-1] == ("all_done", None)
    assert script.checked == ["module_01/ex01_add", "module_01/ex02_sub"]


def test_watch_switches_to_the_exercise_whose_file_was_saved(tmp_path):
    kata, watcher, script = setup(
        tmp_path, module_01__ex01_add=[FAILING], module_01__ex02_sub=[FAILING]
    )
    watch_loop(watcher, [saved(kata, "module_01/ex02_sub.py")])
    assert script.checked == ["module_01/ex01_add", "module_01/ex02_sub"]
    assert watcher.current.id == "module_01/ex02_sub"


def test_kata_watch_rechecks_on_save_and_stops_cleanly_on_ctrl_c(tmp_path, monkeypatch, capsys):
    from watchfiles import Change

    from checker.cli import main

    kata = make_kata(tmp_path, FakeExercise(stub=fake_kata.HALF_RIGHT))
    stub = kata.exercises / "module_01" / "ex01_add.py"

    def one_save_then_ctrl_c(*args, **kwargs):
        yield {(Change.modified, str(stub))}
        raise KeyboardInterrupt

    monkeypatch.setattr("watchfiles.watch", one_save_then_ctrl_c)
    monkeypatch.setenv("COLUMNS", "250")
    code = main(["--root", str(kata.root), "watch"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("module_01/ex01_add  1/2 tests pass") == 2
    assert out.rstrip().endswith("Stopped watching.")
