"""Every pytest run in this repository uses the kata's plugin (checker/plugin.py)."""

pytest_plugins = ["checker.plugin"]
