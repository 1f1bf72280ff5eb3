"""The ``kata`` commands, one file each; ``checker.cli`` parses the command line.

Every command imports only what it needs, so ``kata`` alone (the progress
table) shows at once: MLflow and pytest only ever run in subprocesses.
"""


class CommandError(Exception):
    """A problem to report in one plain sentence, with exit status 1."""
