"""``kata verify``: the maintainers' check of the whole kata (what CI runs)."""

from __future__ import annotations

from checker.manifest import KataPaths


def cmd_verify(args, kata: KataPaths, console) -> int:
    from checker.verify import verify

    return verify(
        kata,
        args.modules,
        console,
        workers=args.workers,
        timeout=args.timeout,
        seed=args.seed,
        update_caught_by=args.update_caught_by,
    )
