"""`kata` and `kata list`: the progress table and its JSON form."""

import json
import subprocess
import sys

import pytest

from checker.cli import main
from checker.manifest import load_manifest
from checker.progress import FAILING, CheckResult, Progress, exercise_hash
from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata, write_stub

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests
cli = fake_kata.cli


def two_exercises(tmp_path):
    return make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_add", title="Add two numbers"),
        FakeExercise("module_01/ex02_sub", title="Subtract"),
        modules=["module_01", "module_02"],
    )


def record(kata, exercise_id, status, passed, total):
    exercise = load_manifest(kata).find(exercise_id)
    progress = Progress.load(kata)
    digest = exercise_hash(kata, exercise)
    progress.record(CheckResult(exercise_id, status, passed, total, hash=digest))
    progress.save()


def test_kata_alone_shows_every_module_and_exercise_with_its_status(tmp_path, cli):
    kata = two_exercises(tmp_path)
    record(kata, "module_01/ex01_add", "done", 2, 2)
    record(kata, "module_01/ex02_sub", FAILING, 1, 3)
    code, out = cli(kata)
    assert code == 0
    assert "module_01" in out and "module_02" in out and "no exercises yet" in out
    assert "ex01_add" in out and "done" in out
    assert "failing 1/3 tests" in out


def test_kata_alone_names_the_next_exercise_and_the_overall_progress(tmp_path, cli):
    kata = two_exercises(tmp_path)
    record(kata, "module_01/ex01_add", "done", 2, 2)
    code, out = cli(kata)
    assert "Next: module_01/ex02_sub" in out
    assert "1/2 exercises done (50%)" in out


def test_an_exercise_never_checked_is_not_started(tmp_path, cli):
    code, out = cli(two_exercises(tmp_path), "list")
    assert out.count("not started") == 2


def test_list_json_gives_modules_exercises_next_and_totals(tmp_path, cli):
    kata = two_exercises(tmp_path)
    record(kata, "module_01/ex01_add", "done", 2, 2)
    code, out = cli(kata, "list", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"version", "modules", "next", "done", "total"}
    assert [m["id"] for m in data["modules"]] == ["module_01", "module_02"]
    first = data["modules"][0]["exercises"][0]
    assert first["id"] == "module_01/ex01_add"
    assert (first["status"], first["passed"], first["total"]) == ("done", 2, 2)
    assert first["file"] == "exercises/module_01/ex01_add.py"
    assert data["next"]["id"] == "module_01/ex02_sub"
    assert (data["done"], data["total"]) == (1, 2)


def test_list_marks_an_exercise_edited_since_its_last_check(tmp_path, cli):
    kata = two_exercises(tmp_path)
    record(kata, "module_01/ex01_add", FAILING, 0, 2)
    write_stub(kata, "module_01/ex01_add", "def add(a, b):\n    return a - b\n")
    data = json.loads(cli(kata, "list", "--json")[1])
    assert data["modules"][0]["exercises"][0]["edited_since_check"] is True
    assert "(edited: re-check)" in cli(kata)[1]


def test_a_broken_manifest_is_a_plain_error(tmp_path, cli):
    kata = make_kata(tmp_path)
    kata.manifest.write_text("not = [valid")
    code, out = cli(kata)
    assert code == 2
    assert "kata.toml is not valid TOML" in out


def test_kata_never_imports_mlflow_or_pytest(tmp_path):
    kata = two_exercises(tmp_path)
    script = (
        "import sys; from checker.cli import main; "
        f"main(['--root', {str(kata.root)!r}]); "
        "heavy = [m for m in ('mlflow', 'pytest', '_pytest') if m in sys.modules]; "
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


@pytest.mark.parametrize(
    "command", [[], ["list"], ["check"], ["hint"], ["diff"], ["watch"], ["reset"], ["ui"]]
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: kata" in capsys.readouterr().out


def test_check_help_explains_what_it_checks_by_default(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "the current exercise: the first one, in manifest" in capsys.readouterr().out
