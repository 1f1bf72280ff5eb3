"""The learner's state under .kata/: check results, hints shown, backups, kept stores.

``.kata/progress.json`` holds, per exercise, the last check's result and the
hash of the exercise file and its test file, so an unchanged exercise is not
re-run. A file that cannot be read, or was written by another version of the
checker, is moved aside and rebuilt from scratch.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from checker.manifest import Exercise, KataPaths, Manifest

VERSION = 1

DONE = "done"
FAILING = "failing"
NOT_STARTED = "not_started"

# Why a failing check has no ordinary failing test to show.
TIMEOUT = "timeout"
CRASH = "crash"
EXIT = "exit"  # sys.exit() in the learner's code
COLLECT = "collect"  # the test file could not be collected
NO_TESTS = "no_tests"
MISSING = "missing"  # the exercise or its test file is not on disk


@dataclass
class CheckResult:
    """What one check of one exercise found."""

    exercise: str
    status: str
    passed: int = 0
    total: int = 0
    problem: str | None = None
    message: str = ""  # the first failure (or the problem) in plain words
    test: str | None = None  # the first failing test's name
    where: str | None = None  # "ex01_x.py:12 in func": the line in the learner's file
    failed_tests: list[str] = field(default_factory=list)  # names, run first next time
    passed_tests: list[str] = field(default_factory=list)  # names, slowest first: run next
    hash: str = ""
    checked_at: str = ""
    duration: float = 0.0
    output: str = field(default="", repr=False)  # pytest's output, never saved
    cached: bool = False  # reused from progress.json, never saved

    @property
    def ok(self) -> bool:
        return self.status == DONE

    def summary(self) -> str:
        """``done``, ``failing 2/5 tests``, ``not started``, ``failing: timed out``."""
        if self.status == DONE:
            return "done"
        if self.status == NOT_STARTED:
            return "not started"
        if self.problem in PROBLEM_WORDS:
            return f"failing: {PROBLEM_WORDS[self.problem]}"
        return f"failing {self.passed}/{self.total} tests"

    def to_record(self) -> dict:
        record = asdict(self)
        for name in ("output", "cached", "exercise"):
            record.pop(name)
        return record

    @classmethod
    def from_record(cls, exercise_id: str, record: dict) -> "CheckResult":
        names = {f.name for f in fields(cls)} - {"exercise", "output", "cached"}
        return cls(exercise=exercise_id, **{k: v for k, v in record.items() if k in names})


PROBLEM_WORDS = {
    TIMEOUT: "timed out",
    CRASH: "test process crashed",
    EXIT: "sys.exit() called",
    COLLECT: "tests could not be collected",
    NO_TESTS: "no tests collected",
    MISSING: "file missing",
}


def exercise_hash(kata: KataPaths, exercise: Exercise) -> str:
    """A hash of the exercise file and its test file: unchanged means same result."""
    digest = hashlib.sha256()
    for path in (kata.stub(exercise), kata.test_file(exercise)):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class Progress:
    """.kata/progress.json: read it, change it, write it back atomically."""

    def __init__(self, kata: KataPaths, data: dict, note: str | None = None):
        self.kata = kata
        self.data = data
        self.note = note  # set when an unreadable file was moved aside
        self._changed: set[str] = set()  # exercises this process changed

    @property
    def path(self) -> Path:
        return self.kata.state / "progress.json"

    @classmethod
    def load(cls, kata: KataPaths | None = None) -> "Progress":
        kata = kata or KataPaths.default()
        path = kata.state / "progress.json"
        empty = {"version": VERSION, "exercises": {}}
        if not path.exists():
            return cls(kata, empty)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION or not isinstance(data.get("exercises"), dict):
                raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        except (OSError, ValueError, AttributeError) as err:
            aside = path.with_name(f"progress.json.unreadable-{now():%Y%m%d-%H%M%S}")
            os.replace(path, aside)
            note = (
                f"{kata.relative(path)} could not be used ({err}); it was moved to "
                f"{kata.relative(aside)} and your progress will be rebuilt as you check."
            )
            return cls(kata, empty, note)
        return cls(kata, data)

    def save(self) -> None:
        """Write the exercises this process changed over what is on disk now, so a
        `kata hint` in one terminal and a `kata watch` in another lose nothing."""
        on_disk = self._read_quietly()
        for exercise_id in self._changed:
            on_disk["exercises"][exercise_id] = self.data["exercises"].get(exercise_id, {})
        self.data = on_disk
        self._changed.clear()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"progress.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def _read_quietly(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == VERSION and isinstance(data.get("exercises"), dict):
                return data
        except (OSError, ValueError, AttributeError):
            pass
        return {"version": VERSION, "exercises": {}}

    def _entry(self, exercise_id: str) -> dict:
        self._changed.add(exercise_id)
        return self.data["exercises"].setdefault(exercise_id, {})

    def result(self, exercise_id: str) -> CheckResult | None:
        """The last check's result, or None when never checked."""
        record = self.data["exercises"].get(exercise_id, {}).get("check")
        if not isinstance(record, dict) or "status" not in record:
            return None
        try:
            return CheckResult.from_record(exercise_id, record)
        except TypeError:
            return None

    def status(self, exercise_id: str) -> str:
        result = self.result(exercise_id)
        return result.status if result else NOT_STARTED

    def record(self, result: CheckResult) -> None:
        self._entry(result.exercise)["check"] = result.to_record()

    def forget_check(self, exercise_id: str) -> None:
        self._entry(exercise_id).pop("check", None)

    def cached(self, kata: KataPaths, exercise: Exercise) -> CheckResult | None:
        """The last result when neither the exercise nor its test changed since.

        A timeout or a crash is never reused: it may come from a busy machine
        rather than from the code, and running again is what one expects.
        """
        result = self.result(exercise.id)
        if result and result.problem in (TIMEOUT, CRASH):
            return None
        if result and result.hash == exercise_hash(kata, exercise):
            result.cached = True
            return result
        return None

    def edited_since_check(self, exercise: Exercise) -> bool:
        result = self.result(exercise.id)
        return result is not None and result.hash != exercise_hash(self.kata, exercise)

    def hints_shown(self, exercise_id: str) -> int:
        return int(self.data["exercises"].get(exercise_id, {}).get("hints_shown", 0))

    def set_hints_shown(self, exercise_id: str, count: int) -> None:
        self._entry(exercise_id)["hints_shown"] = count

    def next_exercise(self, manifest: Manifest) -> Exercise | None:
        """The first exercise, in manifest order, that is not done."""
        return next((e for e in manifest.exercises if self.status(e.id) != DONE), None)


def backup_file(kata: KataPaths, exercise: Exercise, when: dt.datetime | None = None) -> Path:
    """Copy the learner's file to .kata/backup/<module>/<stem>-<YYYYmmdd-HHMMSS>.py."""
    when = when or now()
    folder = kata.state / "backup" / exercise.module
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{exercise.stem}-{when:%Y%m%d-%H%M%S}.py"
    counter = 1
    while target.exists():  # two resets within a second
        counter += 1
        target = folder / f"{exercise.stem}-{when:%Y%m%d-%H%M%S}-{counter}.py"
    shutil.copy2(kata.stub(exercise), target)
    return target


def kept_stores(kata: KataPaths) -> list[Path]:
    """The MLflow databases kept by ``pytest --keep-store``, newest first."""
    folder = kata.state / "stores"
    dbs = [p for p in folder.glob("*/mlflow.db") if p.is_file()] if folder.is_dir() else []
    return sorted(dbs, key=lambda p: p.stat().st_mtime, reverse=True)


def overview(kata: KataPaths, manifest: Manifest, progress: Progress) -> dict:
    """Every module and exercise with its status, the next exercise and the totals:
    what ``kata`` shows and ``kata list --json`` prints."""
    modules: list[dict[str, Any]] = [{"id": m.id, "title": m.title} for m in manifest.modules]
    known = {m["id"] for m in modules}
    for exercise in manifest.exercises:  # an exercise whose module has no entry
        if exercise.module not in known:
            modules.append({"id": exercise.module, "title": ""})
            known.add(exercise.module)
    for module in modules:
        module["exercises"] = [
            _exercise_overview(kata, progress, e) for e in manifest.module_exercises(module["id"])
        ]
        module["done"] = sum(e["status"] == DONE for e in module["exercises"])
        module["total"] = len(module["exercises"])
    following = progress.next_exercise(manifest)
    done = sum(m["done"] for m in modules)
    return {
        "version": VERSION,
        "modules": modules,
        "next": _exercise_overview(kata, progress, following) if following else None,
        "done": done,
        "total": len(manifest.exercises),
    }


def _exercise_overview(kata: KataPaths, progress: Progress, exercise: Exercise) -> dict:
    result = progress.result(exercise.id) or CheckResult(exercise=exercise.id, status=NOT_STARTED)
    return {
        "id": exercise.id,
        "title": exercise.title,
        "file": kata.relative(kata.stub(exercise)),
        "status": result.status,
        "summary": result.summary(),
        "passed": result.passed,
        "total": result.total,
        "problem": result.problem,
        "message": result.message,
        "checked_at": result.checked_at or None,
        "edited_since_check": progress.edited_since_check(exercise),
        "hints_shown": progress.hints_shown(exercise.id),
        "hints_total": len(exercise.hints),
    }
