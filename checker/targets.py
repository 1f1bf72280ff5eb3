"""Which file each exercise test checks, and the machinery of ``kata verify``.

By default a test checks the learner's file beside it (``exercises/module_NN/exKK.py``),
or the reference solution with ``--solutions``. The options here are for
maintainers:

- ``--exercise-file PATH`` checks any file instead; given several times, every
  test runs once per file;
- ``--kata-targets solution,stub,mutants`` runs every exercise test once per
  target: the reference solution, the untouched stub, and each plausible wrong
  solution built from ``checker/tests/mutants/`` (what ``kata verify`` uses);
- ``--first-failure-per-file`` skips a file's remaining tests once one failed
  (a wrong solution needs only one failing test to be rejected; mutants always
  stop at their first failure).

It is a pytest plugin object that ``checker.plugin`` registers.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from checker import loader
from checker.manifest import KataPaths

SOLUTION, STUB = "solution", "stub"
MUTANT_PREFIX = "mutant:"


def kata_paths(config) -> KataPaths:
    """The kata tree pytest runs in: its rootdir (``kata`` passes ``--rootdir``)."""
    return KataPaths(Path(config.rootpath))


class Targets:
    """The pytest hooks that decide what each exercise test checks."""

    def __init__(self, config):
        self.config = config
        self.kinds: dict[Path, str] = {}  # file -> "solution", "stub" or "mutant:<name>"
        self.caught_by: dict[Path, str] = {}  # a mutant's file -> the test to run first
        self.mutant_folder: Path | None = None
        self.failed_files: set[Path] = set()  # files that failed a test, when that ends them
        config.option.exercise_file = [  # relative to where pytest was started
            Path(config.invocation_params.dir, f).resolve() for f in config.option.exercise_file
        ]

    # --- what a test checks ----------------------------------------------------------

    def target(self, test_file: Path, param: Path | None = None) -> Path:
        """The file a test checks: its parameter, its --exercise-file, the stub, or the
        solution."""
        files = self.config.option.exercise_file
        if param is not None:
            return param
        if files:
            return files[0]
        return loader.target_file(test_file, self.config.getoption("solutions"))

    def exercise_file_of(self, item) -> Path | None:
        if "exercise" not in item.fixturenames:
            return None
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("exercise") if callspec else None
        return self.target(item.path, param)

    def kind_of(self, path: Path | None) -> str | None:
        return self.kinds.get(path) if path is not None else None

    # --- hooks -----------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc):
        """With several ``--exercise-file``, run each test once per file; with
        ``--kata-targets``, once per target (solution, stub, each mutant)."""
        if "exercise" not in metafunc.fixturenames:
            return
        files = metafunc.config.option.exercise_file
        if len(files) > 1:
            metafunc.parametrize("exercise", files, indirect=True, ids=[f.stem for f in files])
        elif metafunc.config.getoption("kata_targets"):
            targets = self._verify_targets(Path(metafunc.definition.path))
            if targets:
                ids, paths = zip(*targets, strict=True)
                metafunc.parametrize("exercise", paths, indirect=True, ids=ids)

    def pytest_itemcollected(self, item):
        """Under --kata-targets, keep every target of one exercise on one xdist worker
        (Spark and server tests keep their own groups), so a mutant stops at its first
        failure."""
        if not self.config.getoption("kata_targets"):
            return
        if "exercise" in item.fixturenames and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(f"exercise:{item.path}"))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        """A mutant's ``caught_by`` test runs before its other tests (after any shuffle)."""
        if config.getoption("kata_targets"):
            items[:] = self._caught_by_first(items)

    def _caught_by_first(self, items: list) -> list:
        first: dict[Path | None, object] = {}
        for item in items:
            target = self.exercise_file_of(item)
            if target in self.caught_by and item.originalname == self.caught_by[target]:
                first[target] = item
        ordered, placed = [], set()
        for item in items:
            lead = first.get(self.exercise_file_of(item))
            for candidate in (lead, item):
                if candidate is not None and id(candidate) not in placed:
                    ordered.append(candidate)
                    placed.add(id(candidate))
        return ordered

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        target = self.exercise_file_of(item)
        if target in self.failed_files and self.stops_at_first_failure(target):
            pytest.skip(f"{target.name} already failed a test")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        rep = yield
        target = self.exercise_file_of(item)
        if rep.failed and target and self.stops_at_first_failure(target):
            self.failed_files.add(target)
        return rep

    def pytest_unconfigure(self, config):
        if self.mutant_folder is not None:
            shutil.rmtree(self.mutant_folder, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------

    def stops_at_first_failure(self, path: Path) -> bool:
        """A mutant needs one failing test to be rejected; so does each --exercise-file
        with --first-failure-per-file."""
        kind = self.kind_of(path) or ""
        return self.config.getoption("first_failure_per_file") or kind.startswith(MUTANT_PREFIX)

    def _verify_targets(self, test_file: Path) -> list[tuple[str, Path]]:
        """(test id, file) of each target of ``test_file``'s exercise."""
        from checker.mutants import build_mutants

        kinds = {k.strip() for k in self.config.getoption("kata_targets").split(",")}
        unknown = kinds - {SOLUTION, STUB, "mutants"}
        if unknown:
            raise pytest.UsageError(f"--kata-targets: unknown {sorted(unknown)}")
        targets = []
        if SOLUTION in kinds:
            targets.append((SOLUTION, loader.target_file(test_file, solutions=True)))
        if STUB in kinds:
            targets.append((STUB, loader.target_file(test_file, solutions=False)))
        for kind, path in targets:
            self.kinds[path] = kind
        if "mutants" in kinds:
            if self.mutant_folder is None:
                self.mutant_folder = Path(tempfile.mkdtemp(prefix="kata-mutants-"))
            module, stem = test_file.parent.name, test_file.stem.removeprefix("test_")
            folder = self.mutant_folder / module
            for mutant in build_mutants(kata_paths(self.config), module, stem, folder):
                self.kinds[mutant.path] = MUTANT_PREFIX + mutant.name
                if mutant.caught_by:
                    self.caught_by[mutant.path] = mutant.caught_by
                targets.append((f"mutant-{mutant.name}", mutant.path))
        return targets
