"""Skip CPython's module teardown when a pytest run is over.

With MLflow, SQLAlchemy and pandas loaded, the interpreter spends about 0.7 s
after the last test tearing down thousands of modules, time a learner waits
for on every check. This plugin ends the process with ``os._exit`` at the
very end instead: by then every thread has been joined and every ``atexit``
handler has run (ours is registered first, so it runs last), and we flush
stdout and stderr ourselves. It only acts when pytest was started from the
command line (so a program that calls ``pytest.main()`` exits as it chooses),
and not under pytest-xdist, whose own clean-up must run.
"""

import atexit
import contextlib
import logging
import os
import sys

_STATUS: dict = {"code": None}


def _started_from_the_command_line() -> bool:
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is not None:
        return spec.name in ("pytest", "pytest.__main__")
    return os.path.basename(sys.argv[0]) in ("pytest", "py.test")


def _exit_now() -> None:
    code = _STATUS["code"]
    if code is None:
        return
    logging.shutdown()  # registered before us, so it would not run otherwise
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed stream has nothing to flush
            stream.flush()
    os._exit(code)


def arm(config) -> None:
    """Call from pytest_configure: register the exit handler before anyone else's."""
    under_xdist = hasattr(config, "workerinput") or config.getoption("numprocesses", None)
    if _started_from_the_command_line() and not under_xdist:
        atexit.register(_exit_now)


def record(exitstatus: int) -> None:
    """Call from pytest_sessionfinish with the session's exit status."""
    _STATUS["code"] = int(exitstatus)
