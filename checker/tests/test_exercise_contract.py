"""Every exercise keeps the kata's contract beyond its own tests.

- A stub shows the same public interface as its reference solution: the learner
  works from the stub's names, signatures and docstrings, and the tests call
  them; if the solution drifted from the stub, the tests would check something
  the learner was never asked to build.
- Every public function of a stub raises NotImplementedError (``kata reset``).
- Every exercise has at least three plausible wrong solutions.
- Each lesson lists its exercises in manifest order, and counts them right.
- Every ``python`` snippet of a lesson runs as written in an empty folder, offline
  (with the fake LLM server's environment), unless it is marked as a fragment.

Each check is parametrized by exercise or module; ``kata verify module_NN`` runs
only that module's (``--kata-modules``).
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from checker.manifest import KataPaths, load_manifest
from checker.mutants import mutant_names
from checker.snippets import snippets
from checker.stubs import is_untouched_stub, public_functions, raises_not_implemented
from fixtures.judges import judge_or_echo

KATA = KataPaths.default()
MANIFEST = load_manifest(KATA)
MIN_WRONG_SOLUTIONS = 3
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


def selected_modules(config) -> list[str]:
    """The modules this run checks: ``--kata-modules``, or all of them."""
    chosen = config.getoption("kata_modules")
    return [m.id for m in MANIFEST.modules if not chosen or m.id in chosen.split(",")]


def pytest_generate_tests(metafunc):
    """``stub``, ``exercise_id`` and ``module`` range over the selected modules."""
    modules = selected_modules(metafunc.config)
    if "stub" in metafunc.fixturenames:
        stubs = sorted(p for m in modules for p in (KATA.exercises / m).glob("ex*.py"))
        metafunc.parametrize("stub", stubs, ids=[f"{p.parent.name}/{p.stem}" for p in stubs])
    if "exercise_id" in metafunc.fixturenames:
        ids = [e.id for e in MANIFEST.exercises if e.module in modules]
        metafunc.parametrize("exercise_id", ids)
    if "module" in metafunc.fixturenames:
        metafunc.parametrize("module", modules)
    if "snippet" in metafunc.fixturenames:
        found = [
            (m, s.line)
            for m in modules
            for s in snippets((KATA.exercises / m / "README.md").read_text(encoding="utf-8"))
            if not s.fragment
        ]
        # The lessons' snippets run together, once (one import of MLflow for all):
        # keep them on one xdist worker.
        params = [
            pytest.param((m, line), id=f"{m}:line{line}", marks=pytest.mark.xdist_group("lessons"))
            for m, line in found
        ]
        metafunc.parametrize("snippet", params)


def _public_interface(path: Path) -> dict[str, str]:
    """Public functions, classes (with their methods) and constants, as comparable text."""
    interface = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not node.name.startswith("_"):
                interface[node.name] = _signature(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and _is_public_constant(target.id):
                    interface[target.id] = ast.unparse(node.value) if node.value else ""
    return interface


def _is_public_constant(name: str) -> bool:
    return name.isupper() and not name.startswith("_")


def _signature(node) -> str:
    """Name, arguments, return type and docstring; decorators (``@scorer``) may be the answer."""
    if isinstance(node, ast.ClassDef):
        methods = [
            _signature(n)
            for n in node.body
            if isinstance(n, ast.FunctionDef) and (n.name == "__init__" or n.name[0] != "_")
        ]
        fields = [ast.unparse(n) for n in node.body if isinstance(n, ast.AnnAssign)]
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        header = f"class {node.name}({bases})"
        return "\n".join([header, ast.get_docstring(node) or "", *fields, *methods])
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){returns}\n{ast.get_docstring(node) or ''}"


def test_the_stub_and_its_solution_have_the_same_public_interface(stub):
    solution = KATA.solutions / stub.parent.name / stub.name
    assert solution.exists(), f"no reference solution {solution}"
    mine, theirs = _public_interface(stub), _public_interface(solution)
    assert mine.keys() == theirs.keys(), (
        f"public names differ: only in the stub {sorted(mine.keys() - theirs.keys())}, "
        f"only in the solution {sorted(theirs.keys() - mine.keys())}"
    )
    different = [name for name in mine if mine[name] != theirs[name]]
    assert not different, "signature, docstring or value differs for: " + ", ".join(
        f"\n--- stub:\n{mine[n]}\n--- solution:\n{theirs[n]}" for n in different
    )


def test_every_public_function_of_the_stub_raises_not_implemented(stub):
    """What `kata reset` relies on to tell the shipped stub from a learner's commit."""
    tree = ast.parse(stub.read_text())
    filled_in = [f.name for f in public_functions(tree) if not raises_not_implemented(f)]
    assert is_untouched_stub(stub.read_text()), (
        f"every public function and method of a stub must raise NotImplementedError; "
        f"these do not: {filled_in or 'there are no public functions'}. Give ready-made "
        "helpers a leading underscore."
    )


def test_every_exercise_has_at_least_three_wrong_solutions(exercise_id):
    module, stem = exercise_id.split("/")
    names = mutant_names(KATA, module, stem)
    assert len(names) >= MIN_WRONG_SOLUTIONS, (
        f"{exercise_id} has {len(names)} plausible wrong solutions; every exercise needs at "
        f"least {MIN_WRONG_SOLUTIONS}, one for each kind of rule its docstring states "
        f"(checker/tests/mutants/{module}/{stem}.toml)"
    )


def _lesson(module: str) -> str:
    return (KATA.exercises / module / "README.md").read_text(encoding="utf-8")


def test_each_lesson_lists_its_exercises_in_manifest_order(module):
    listed = re.findall(
        r"^\| *(\d+) *\| *`(ex\d\d_[a-z0-9_]+)\.py` *\|", _lesson(module), flags=re.M
    )
    expected = [(str(n), e.stem) for n, e in enumerate(MANIFEST.module_exercises(module), 1)]
    assert listed == expected, (
        f"exercises/{module}/README.md's table 'The exercises, in order' should list "
        f"{[f'{n} {s}' for n, s in expected]}; it lists {[f'{n} {s}' for n, s in listed]}"
    )


def test_a_lesson_that_counts_its_exercises_counts_right(module):
    count = len(MANIFEST.module_exercises(module))
    for word in re.findall(r"\b(\w+) exercises\b", _lesson(module)):
        number = NUMBER_WORDS.get(word.lower(), int(word) if word.isdigit() else None)
        assert number in (None, count), (
            f"exercises/{module}/README.md says '{word} exercises'; the module has {count}"
        )


_SNIPPET_RUNS: dict[str, dict[int, dict]] = {}  # module -> snippet line -> outcome
_RUNNER_OUTPUT: list[str] = []  # what the runner printed (why a snippet never ran)


def _snippet_outcomes(module: str, folder: Path, modules: list[str]) -> dict[int, dict]:
    """Every snippet of the lessons of ``modules``, run once (in one process, a fork each)."""
    if not _SNIPPET_RUNS:
        results = folder / "snippets.json"
        lessons = {str(KATA.exercises / m / "README.md"): m for m in modules}
        cache = KATA.state / "cache"
        command = [sys.executable, "-m", "checker.snippets", str(results), str(cache), *lessons]
        env = {**os.environ, "PYTHONPATH": str(KATA.root)}
        ran = subprocess.run(command, cwd=folder, env=env, capture_output=True, timeout=3600)
        _RUNNER_OUTPUT.append((ran.stdout + ran.stderr).decode(errors="replace")[-3000:])
        outcomes = json.loads(results.read_text()) if results.exists() else []
        for m in lessons.values():
            _SNIPPET_RUNS[m] = {}
        for outcome in outcomes:
            _SNIPPET_RUNS[lessons[outcome["lesson"]]][outcome["line"]] = outcome
    return _SNIPPET_RUNS.get(module, {})


def test_the_lesson_snippet_runs_as_written_in_an_empty_folder(
    snippet, fake_llm_env, tmp_path, pytestconfig
):
    module, line = snippet
    fake_llm_env.responder = judge_or_echo  # judges get "yes", anything else an echo
    outcome = _snippet_outcomes(module, tmp_path, selected_modules(pytestconfig)).get(line)
    assert outcome is not None, (
        f"exercises/{module}/README.md line {line}: the snippet never ran; the runner printed:\n"
        + "".join(_RUNNER_OUTPUT)
    )
    assert outcome["ok"], (
        f"exercises/{module}/README.md, the snippet at line {line} fails when run as written "
        f"in an empty folder (MLflow's defaults, the fake LLM server's environment); fix it, "
        f"or mark it <!-- fragment: why --> if it is not meant to run alone:\n"
        f"{outcome['output']}"
    )
