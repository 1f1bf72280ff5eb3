"""The manifest: reading exercises/kata.toml, finding exercises by name, completeness."""

import pytest

from checker.manifest import ManifestError, completeness_problems, load_manifest
from checker.tests import fake_kata
from checker.tests.fake_kata import FakeExercise, make_kata

mlflow_store = fake_kata.mlflow_store  # no MLflow in these tests


@pytest.fixture
def kata(tmp_path):
    return make_kata(
        tmp_path,
        FakeExercise("module_01/ex01_add", timeout=30),
        FakeExercise("module_01/ex02_sub"),
        FakeExercise("module_02/ex01_mul"),
    )


def test_an_exercise_is_read_with_its_title_hints_docs_and_timeout(kata):
    exercise = load_manifest(kata).exercises[0]
    assert exercise.id == "module_01/ex01_add"
    assert exercise.title == "Add two numbers"
    assert exercise.hints == ("Think about the + operator.", "return a + b, roughly.")
    assert exercise.docs == ("https://mlflow.org/docs/latest/",)
    assert exercise.timeout == 30


def test_an_exercise_has_its_stub_test_file_and_solution_under_its_module(kata):
    exercise = load_manifest(kata).exercises[0]
    assert kata.stub(exercise) == kata.root / "exercises/module_01/ex01_add.py"
    assert kata.test_file(exercise) == kata.root / "exercises/module_01/test_ex01_add.py"
    assert kata.solution(exercise) == kata.root / "solutions/module_01/ex01_add.py"


@pytest.mark.parametrize(
    "name",
    [
        "module_01/ex01_add",
        "module_01/ex01",
        "ex01_add",
        "exercises/module_01/ex01_add.py",
        "exercises/module_01/test_ex01_add.py",
        "module_1/ex01",
    ],
)
def test_an_exercise_is_found_by_its_id_a_short_name_or_its_path(kata, name):
    assert load_manifest(kata).find(name).id == "module_01/ex01_add"


def test_a_short_name_shared_by_two_modules_is_ambiguous(kata):
    with pytest.raises(ManifestError, match="ambiguous.*module_01/ex01_add.*module_02/ex01_mul"):
        load_manifest(kata).find("ex01")


def test_an_unknown_name_suggests_close_matches(kata):
    with pytest.raises(ManifestError, match="no exercise 'ex01_ad'.*Did you mean 'ex01_add'"):
        load_manifest(kata).find("ex01_ad")


def test_a_module_selects_its_exercises_in_order(kata):
    ids = [e.id for e in load_manifest(kata).select("module_01")]
    assert ids == ["module_01/ex01_add", "module_01/ex02_sub"]


def test_an_unknown_module_is_an_error_listing_the_modules(kata):
    with pytest.raises(ManifestError, match="no module 'module_09'.*module_01, module_02"):
        load_manifest(kata).select("module_09")


def test_a_manifest_that_is_not_toml_is_reported_plainly(kata):
    kata.manifest.write_text("[[exercises]\nid = ")
    with pytest.raises(ManifestError, match="kata.toml is not valid TOML"):
        load_manifest(kata)


def test_a_complete_tree_has_no_problems(kata):
    assert completeness_problems(load_manifest(kata), kata) == []


@pytest.mark.parametrize(
    ("missing", "what"),
    [
        ("exercises/module_01/ex02_sub.py", "stub"),
        ("exercises/module_01/test_ex02_sub.py", "test file"),
        ("solutions/module_01/ex02_sub.py", "solution"),
    ],
)
def test_an_entry_without_one_of_its_files_is_a_problem(kata, missing, what):
    (kata.root / missing).unlink()
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == [f"module_01/ex02_sub: its {what} {missing} is missing"]


def test_an_exercise_file_without_an_entry_is_a_problem(kata):
    (kata.exercises / "module_01" / "ex03_extra.py").write_text("")
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == ["exercises/module_01/ex03_extra.py: stub without a manifest entry"]


def test_an_entry_without_hints_is_a_problem(tmp_path):
    kata = make_kata(tmp_path, FakeExercise(hints=()))
    assert completeness_problems(load_manifest(kata), kata) == ["module_01/ex01_add: no hints"]


def test_an_entry_listed_twice_is_a_problem(kata):
    text = kata.manifest.read_text()
    kata.manifest.write_text(text + '\n[[exercises]]\nid = "module_02/ex01_mul"\n')
    problems = completeness_problems(load_manifest(kata), kata)
    assert "module_02/ex01_mul: listed more than once" in problems


def test_entries_out_of_order_are_a_problem(tmp_path):
    kata = make_kata(
        tmp_path, FakeExercise("module_01/ex02_sub"), FakeExercise("module_01/ex01_add")
    )
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == [
        "module_01/ex01_add: listed after module_01/ex02_sub; keep the manifest in order"
    ]


def test_an_id_not_of_the_form_module_nn_exkk_slug_is_a_problem(kata):
    kata.manifest.write_text(kata.manifest.read_text() + '\n[[exercises]]\nid = "m1/first"\n')
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == ["'m1/first': not of the form module_NN/exKK_slug"]


def test_an_exercise_of_an_unlisted_module_is_a_problem(tmp_path):
    kata = make_kata(tmp_path, FakeExercise("module_03/ex01_x"), modules=["module_01"])
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == ["module_03/ex01_x: module module_03 is not in [[modules]]"]


def test_a_module_folder_without_its_lesson_is_a_problem(kata):
    (kata.exercises / "module_02" / "README.md").unlink()
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == ["exercises/module_02: no README.md (the module's lesson)"]


def test_two_exercises_with_the_same_number_in_a_module_are_a_problem(tmp_path):
    kata = make_kata(
        tmp_path, FakeExercise("module_01/ex01_add"), FakeExercise("module_01/ex01_sum")
    )
    problems = completeness_problems(load_manifest(kata), kata)
    assert problems == [
        "module_01/ex01_add and module_01/ex01_sum: two exercises numbered ex01 in module_01"
    ]
