"""The lock file must keep every autologged library inside MLflow's supported range.

MLflow declares, per integration, the versions its autologging and flavors are
tested with (``mlflow.ml_package_versions``). Outside that range autolog warns
or silently misses spans, so a lock update must not drift out of it.
"""

from importlib.metadata import version

import pytest
from mlflow.ml_package_versions import _ML_PACKAGE_VERSIONS
from packaging.version import Version

# MLflow's integration key -> the distribution this project installs.
AUTOLOGGED = {
    "langchain": "langchain",
    "langgraph": "langgraph",
    "llama_index": "llama-index-core",
    "openai": "openai",
    "dspy": "dspy",
    "pydantic_ai": "pydantic-ai-slim",
    "smolagents": "smolagents",
    "spark": "pyspark",
    "sklearn": "scikit-learn",
}


@pytest.mark.parametrize("integration", sorted(AUTOLOGGED))
def test_installed_version_is_supported_by_mlflow_autolog(integration):
    distribution = AUTOLOGGED[integration]
    supported = _ML_PACKAGE_VERSIONS[integration]["autologging"]
    installed = Version(version(distribution))
    low, high = Version(supported["minimum"]), Version(supported["maximum"])
    assert low <= installed <= high, (
        f"{distribution} {installed} is installed, but MLflow's {integration} autologging "
        f"supports {low} to {high}: pin it inside that range in pyproject.toml and re-lock."
    )
