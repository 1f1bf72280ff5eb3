"""Every pytest run in this repository uses the kata's plugin (checker/plugin.py)
and the shared test kit's fixtures (fixtures/pytest_fixtures.py)."""

pytest_plugins = ["checker.plugin", "fixtures.pytest_fixtures"]
