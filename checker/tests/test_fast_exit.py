"""Ending a pytest run early (skipping module teardown) keeps its exit status and output."""

import subprocess
import sys

import pytest

from checker.manifest import DEFAULT_ROOT as ROOT

# The plugin's autouse store fixture imports MLflow; these tests need no store.
NO_STORE = "import pytest\n\n@pytest.fixture(autouse=True)\ndef mlflow_store():\n    yield None\n"


def _pytest(tmp_path, test_source: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(NO_STORE)
    (tmp_path / "test_sample.py").write_text(test_source)
    command = [sys.executable, "-m", "pytest", str(tmp_path / "test_sample.py"), "-q", "-s"]
    command += ["-p", "checker.plugin", "--rootdir", str(tmp_path), "-p", "no:cacheprovider"]
    command += ["--disable-plugin-autoload"]  # as pyproject.toml: 0.2 s instead of 2.5 s
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("source", "status", "summary"),
    [
        ("def test_ok():\n    print('printed by the test')\n", 0, "1 passed"),
        ("def test_bad():\n    print('printed by the test')\n    assert False\n", 1, "1 failed"),
        ("def helper():\n    pass\n", 5, "no tests ran"),
    ],
    ids=["passing", "failing", "no-tests"],
)
def test_the_exit_status_and_all_output_survive_the_fast_exit(tmp_path, source, status, summary):
    result = _pytest(tmp_path, source)

    assert result.returncode == status, result.stdout + result.stderr
    assert summary in result.stdout.splitlines()[-1]
    if "print" in source:
        assert "printed by the test" in result.stdout
