"""Where things live in the kata repository. Imports nothing heavy."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
MANIFEST = EXERCISES / "kata.toml"
STATE = ROOT / ".kata"  # gitignored: progress, caches, backups, the kept store
