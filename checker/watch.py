"""``kata watch``: which exercise to check when files are saved, and when to move on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from checker.manifest import Exercise, KataPaths, Manifest
from checker.progress import DONE, CheckResult, Progress

# ("checking", exercise, None), ("result", exercise, result), ("next", exercise, None),
# ("all_done", None, None)
Say = Callable[[str, Exercise | None, CheckResult | None], None]


class Watcher:
    """The state of ``kata watch``: the current exercise, and what a save does.

    ``check`` runs and records one exercise; ``say`` receives the events above.
    """

    def __init__(
        self,
        kata: KataPaths,
        manifest: Manifest,
        progress: Progress,
        current: Exercise | None,
        check: Callable[[Exercise], CheckResult],
        say: Say,
    ):
        self.kata, self.manifest, self.progress = kata, manifest, progress
        self.current: Exercise | None = current or progress.next_exercise(manifest)
        self.check, self.say = check, say

    def start(self) -> bool:
        """Check the current exercise once; False when there is nothing left to do."""
        if self.current is None:
            self.say("all_done", None, None)
            return False
        return self._check(self.current)

    def on_changes(self, changed: Iterable) -> bool:
        """React to saved files; False when every exercise is done."""
        saved = {Path(p).resolve() for p in changed}
        by_file = {}
        for exercise in self.manifest.exercises:
            by_file[self.kata.stub(exercise).resolve()] = exercise
            by_file[self.kata.test_file(exercise).resolve()] = exercise
        touched = [by_file[p] for p in saved if p in by_file]
        if not touched:
            return True
        if self.current not in touched:  # the learner moved on to another file
            self.current = touched[0]
        assert self.current is not None
        return self._check(self.current)

    def _check(self, exercise: Exercise) -> bool:
        self.say("checking", exercise, None)
        result = self.check(exercise)
        self.say("result", exercise, result)
        if not result.ok:
            return True
        following = self._next_after(exercise)
        if following is None:
            self.say("all_done", None, None)
            return False
        self.current = following
        self.say("next", following, None)
        return True

    def _next_after(self, exercise: Exercise) -> Exercise | None:
        """The next exercise not done, after this one in manifest order, wrapping."""
        order = self.manifest.exercises
        index = order.index(exercise)
        for candidate in order[index + 1 :] + order[:index]:
            if self.progress.status(candidate.id) != DONE:
                return candidate
        return None


def watch_loop(watcher: Watcher, changes: Iterable[Iterable]) -> None:
    """Drive ``watcher`` from batches of changed paths until all is done."""
    if not watcher.start():
        return
    for batch in changes:
        if not watcher.on_changes(batch):
            return
