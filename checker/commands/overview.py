"""``kata`` and ``kata list``: the progress table (or JSON for tools)."""

from __future__ import annotations

import json

from checker.console import (
    print_note,
    print_overview,
)
from checker.manifest import KataPaths, load_manifest
from checker.progress import Progress, overview


def cmd_list(args, kata: KataPaths, console) -> int:
    manifest = load_manifest(kata)
    progress = Progress.load(kata)
    data = overview(kata, manifest, progress)
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2))
        return 0
    print_note(console, progress)
    print_overview(console, data)
    return 0
