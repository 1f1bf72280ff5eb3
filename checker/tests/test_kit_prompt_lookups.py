"""checker.lookups for the prompt registry: versions and aliases read from the store."""

import mlflow
from mlflow import MlflowClient

from checker.lookups import aliases_of, prompt_aliases, prompt_versions


def _register(n: int, name: str = "sentiment") -> None:
    for i in range(1, n + 1):
        mlflow.genai.register_prompt(name=name, template=f"v{i}: {{{{text}}}}")


def test_prompt_versions_are_oldest_first_and_carry_their_aliases():
    _register(3)
    mlflow.genai.set_prompt_alias("sentiment", "production", 2)

    versions = prompt_versions("sentiment")

    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.template for v in versions] == ["v1: {{text}}", "v2: {{text}}", "v3: {{text}}"]
    assert [v.aliases for v in versions] == [[], ["production"], []]


def test_prompt_aliases_are_read_fresh_even_when_another_client_moved_them(mlflow_store):
    _register(2)
    mlflow.genai.set_prompt_alias("sentiment", "production", 1)
    assert mlflow.genai.load_prompt("prompts:/sentiment@production").version == 1  # now cached
    elsewhere = mlflow_store.uri.replace("/mlflow.db", "/./mlflow.db")
    MlflowClient(registry_uri=elsewhere).set_prompt_alias("sentiment", "production", 2)

    assert prompt_aliases("sentiment") == {"production": 2}
    assert aliases_of("sentiment") == {}  # the model registry calls do not see prompts


def test_a_missing_prompt_has_no_versions_and_no_aliases():
    _register(1, name="other")
    assert prompt_versions("sentiment") == []
    assert prompt_aliases("sentiment") == {}
