"""The kata's manifest (exercises/kata.toml) and where each exercise's files live.

Imports nothing heavy: ``kata`` reads this on every call.
"""

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# The checkout this checker was installed from; `kata --root` points elsewhere.
DEFAULT_ROOT = Path(__file__).resolve().parent.parent

EXERCISE_ID = re.compile(r"^(module_\d\d)/(ex\d\d_[a-z0-9_]+)$")
MODULE_ID = re.compile(r"^module_\d\d$")
DEFAULT_TIMEOUT = 120


class ManifestError(Exception):
    """The manifest cannot be read, or a name does not match any exercise."""


@dataclass(frozen=True)
class KataPaths:
    """The folders of one kata checkout; tests point it at a throw-away tree."""

    root: Path

    @classmethod
    def default(cls) -> "KataPaths":
        return cls(DEFAULT_ROOT)

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def manifest(self) -> Path:
        return self.exercises / "kata.toml"

    @property
    def state(self) -> Path:
        return self.root / ".kata"

    def stub(self, exercise: "Exercise") -> Path:
        return self.exercises / exercise.module / f"{exercise.stem}.py"

    def test_file(self, exercise: "Exercise") -> Path:
        return self.exercises / exercise.module / f"test_{exercise.stem}.py"

    def solution(self, exercise: "Exercise") -> Path:
        return self.solutions / exercise.module / f"{exercise.stem}.py"

    def relative(self, path: Path) -> str:
        """``path`` relative to the root when it is inside it, for messages."""
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Module:
    id: str
    title: str


@dataclass(frozen=True)
class Exercise:
    id: str  # "module_01/ex01_mlflow_setup"
    title: str
    concepts: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    timeout: int | None = None

    @property
    def module(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def stem(self) -> str:
        return self.id.split("/", 1)[-1]

    @property
    def short(self) -> str:
        """``ex01`` of ``module_01/ex01_mlflow_setup``."""
        return self.stem.split("_", 1)[0]


@dataclass
class Manifest:
    modules: list[Module]
    exercises: list[Exercise]
    problems: list[str] = field(default_factory=list)  # entries that could not be read

    def module_exercises(self, module_id: str) -> list[Exercise]:
        return [e for e in self.exercises if e.module == module_id]

    def get(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def find(self, name: str) -> Exercise:
        """The exercise that ``name`` means: a full id, ``module_01/ex01``,
        ``ex01_mlflow_setup``, ``ex01`` (when unambiguous) or a file path."""
        key = _normalise(name)
        candidates = [e for e in self.exercises if e.id == key]
        if not candidates:
            candidates = [e for e in self.exercises if _short_match(e, key)]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            listed = ", ".join(e.id for e in candidates)
            raise ManifestError(f"'{name}' is ambiguous: it could be {listed}.")
        raise ManifestError(self._unknown(name, key))

    def select(self, name: str) -> list[Exercise]:
        """The exercises ``name`` selects: a whole module or one exercise."""
        key = _normalise(name)
        module_id = _module_id(key)
        if module_id is not None:
            if module_id not in {m.id for m in self.modules}:
                known = ", ".join(m.id for m in self.modules) or "none"
                raise ManifestError(f"There is no module '{name}'. Modules: {known}.")
            return self.module_exercises(module_id)
        return [self.find(name)]

    def _unknown(self, name: str, key: str) -> str:
        names = [e.id for e in self.exercises] + [e.stem for e in self.exercises]
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
        message = f"There is no exercise '{name}'."
        if close:
            message += " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        return message + " `kata list` shows them all."


def _normalise(name: str) -> str:
    key = name.strip().replace("\\", "/").lower()
    for prefix in ("./", "exercises/", "solutions/"):
        key = key.removeprefix(prefix)
    key = key.removesuffix(".py")
    head, _, tail = key.rpartition("/")
    tail = tail.removeprefix("test_")
    return f"{head}/{tail}" if head else tail


def _module_id(key: str) -> str | None:
    match = re.fullmatch(r"module_?(\d{1,2})/?", key)
    return f"module_{int(match.group(1)):02d}" if match else None


def _short_match(exercise: Exercise, key: str) -> bool:
    module, _, stem = key.rpartition("/")
    if module and _module_id(module) != exercise.module:
        return False
    return stem in (exercise.stem, exercise.short)


def load_manifest(kata: KataPaths | None = None) -> Manifest:
    """Read exercises/kata.toml. Raises ManifestError when it cannot be parsed."""
    kata = kata or KataPaths.default()
    try:
        data = tomllib.loads(kata.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ManifestError(f"The manifest {kata.relative(kata.manifest)} is missing.") from err
    except tomllib.TOMLDecodeError as err:
        raise ManifestError(f"{kata.relative(kata.manifest)} is not valid TOML: {err}") from err
    problems: list[str] = []
    modules = []
    for entry in data.get("modules", []):
        if not isinstance(entry, dict) or "id" not in entry:
            problems.append(f"a [[modules]] entry has no id: {entry!r}")
            continue
        modules.append(Module(id=str(entry["id"]), title=str(entry.get("title", ""))))
    exercises = []
    for entry in data.get("exercises", []):
        if not isinstance(entry, dict) or "id" not in entry:
            problems.append(f"an [[exercises]] entry has no id: {entry!r}")
            continue
        exercises.append(
            Exercise(
                id=str(entry["id"]),
                title=str(entry.get("title", "")),
                concepts=tuple(_strings(entry.get("concepts"))),
                docs=tuple(_strings(entry.get("docs"))),
                hints=tuple(_strings(entry.get("hints"))),
                timeout=entry.get("timeout"),
            )
        )
    return Manifest(modules=modules, exercises=exercises, problems=problems)


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def completeness_problems(manifest: Manifest, kata: KataPaths | None = None) -> list[str]:
    """Everything that keeps the manifest and the files on disk from matching."""
    kata = kata or KataPaths.default()
    problems = list(manifest.problems)
    module_ids = [m.id for m in manifest.modules]
    for module_id in sorted({m for m in module_ids if module_ids.count(m) > 1}):
        problems.append(f"module {module_id} is listed more than once")
    for module_id in module_ids:
        if not MODULE_ID.match(module_id):
            problems.append(f"module id '{module_id}' is not of the form module_NN")
    seen: set[str] = set()
    previous = ""
    for exercise in manifest.exercises:
        problems.extend(_entry_problems(exercise, kata, module_ids, seen))
        if EXERCISE_ID.match(exercise.id) and exercise.id < previous:
            problems.append(f"{exercise.id}: listed after {previous}; keep the manifest in order")
        previous = max(previous, exercise.id)
        seen.add(exercise.id)
    problems.extend(_duplicate_numbers(manifest))
    for folder in sorted(p for p in kata.exercises.glob("module_*") if p.is_dir()):
        if not (folder / "README.md").is_file():
            problems.append(f"{kata.relative(folder)}: no README.md (the module's lesson)")
    listed = {e.id for e in manifest.exercises}
    for path, what in _files_on_disk(kata):
        exercise_id = f"{path.parent.name}/{path.stem.removeprefix('test_')}"
        if exercise_id not in listed:
            problems.append(f"{kata.relative(path)}: {what} without a manifest entry")
    return problems


def _duplicate_numbers(manifest: Manifest) -> list[str]:
    """Two exercises of one module with the same exKK number (ex01_a and ex01_b)."""
    by_number: dict[tuple[str, str], list[str]] = {}
    for exercise in manifest.exercises:
        if EXERCISE_ID.match(exercise.id):
            by_number.setdefault((exercise.module, exercise.short), []).append(exercise.id)
    return [
        f"{' and '.join(ids)}: two exercises numbered {short} in {module}"
        for (module, short), ids in by_number.items()
        if len(set(ids)) > 1
    ]


def _entry_problems(exercise: Exercise, kata: KataPaths, module_ids, seen) -> list[str]:
    if exercise.id in seen:
        return [f"{exercise.id}: listed more than once"]
    if not EXERCISE_ID.match(exercise.id):
        return [f"'{exercise.id}': not of the form module_NN/exKK_slug"]
    problems = []
    if exercise.module not in module_ids:
        problems.append(f"{exercise.id}: module {exercise.module} is not in [[modules]]")
    for name in ("title", "hints", "docs", "concepts"):
        if not getattr(exercise, name):
            problems.append(f"{exercise.id}: no {name}")
    if exercise.timeout is not None and (
        not isinstance(exercise.timeout, int) or exercise.timeout <= 0
    ):
        problems.append(f"{exercise.id}: timeout must be a positive whole number of seconds")
    for what, path in (
        ("stub", kata.stub(exercise)),
        ("test file", kata.test_file(exercise)),
        ("solution", kata.solution(exercise)),
    ):
        if not path.is_file():
            problems.append(f"{exercise.id}: its {what} {kata.relative(path)} is missing")
    return problems


def _files_on_disk(kata: KataPaths):
    for path in sorted(kata.exercises.glob("module_*/ex*.py")):
        yield path, "stub"
    for path in sorted(kata.exercises.glob("module_*/test_ex*.py")):
        yield path, "test file"
    for path in sorted(kata.solutions.glob("module_*/ex*.py")):
        yield path, "solution"
