"""Read back from the test's MLflow store what the code under test left there.

    runs = all_runs()                          # with their model inputs and outputs
    linked_prompts(runs[0])                    # ["qa/2"]: prompt versions linked to it
    aliases_of("support-agent")                # {"champion": "3", "challenger": "4"}
    prompt_aliases("sentiment")                # {"production": 2}: prompts, not models
    assessments(trace, name="correctness", source_type="LLM_JUDGE")

Where MLflow keeps things that no single public call returns:
- prompt versions linked to a run, a trace or a LoggedModel sit in its tags,
  under ``mlflow.linkedPrompts``, as a JSON list of ``{"name", "version"}``;
  MLflow writes the links in background threads, so ``linked_prompts`` waits
  for them first;
- runs from ``search_runs`` come without their model inputs and outputs
  (MLflow 3.17); ``all_runs`` fetches each with ``get_run``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Assessment, LoggedModel, Run, Trace, TraceInfo
from mlflow.entities.model_registry import ModelVersion, PromptVersion
from mlflow.exceptions import MlflowException

LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"


def wait_for_prompt_links(timeout: float = 10.0) -> None:
    """Let MLflow finish linking prompt versions before a test looks for the links.

    In MLflow 3.17, ``load_prompt`` links the prompt version to the active model
    in a background thread (``link_prompt_thread-*``, see
    ``mlflow/tracking/_model_registry/fluent.py``), and the trace exporter links
    it to the trace in another (``link_prompts_from_exporter-*``, see
    ``mlflow/tracing/export/utils.py``). Reading right after the call can miss
    the link, so join those threads first.
    """
    for thread in threading.enumerate():
        if thread.name.startswith(("link_prompt_thread-", "link_prompts_from_exporter-")):
            thread.join(timeout)


# --- runs ---------------------------------------------------------------------------


def all_runs(experiment_ids: list[str] | None = None) -> list[Run]:
    """Every run (of every experiment by default), oldest first, each fetched with
    ``get_run`` so that it carries its model inputs and outputs."""
    client = MlflowClient()
    if experiment_ids is None:
        experiment_ids = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(experiment_ids, order_by=["attributes.start_time ASC"])
    return [client.get_run(run.info.run_id) for run in found]


def model_ids_of(run: Run) -> set[str]:
    """The LoggedModels a run lists among its inputs (evaluated) or outputs (produced)."""
    inputs = run.inputs.model_inputs if run.inputs else []
    outputs = run.outputs.model_outputs if run.outputs else []
    return {m.model_id for m in [*(inputs or []), *(outputs or [])]}


# --- prompt links -----------------------------------------------------------------------


def linked_prompts(item: Run | Trace | TraceInfo | LoggedModel) -> list[str]:
    """The prompt versions linked to a run, trace or LoggedModel, as ``"name/version"``,
    read fresh from the store (after MLflow's linking threads are done)."""
    wait_for_prompt_links()
    client = MlflowClient()
    if isinstance(item, Run):
        tags = client.get_run(item.info.run_id).data.tags
    elif isinstance(item, Trace | TraceInfo):
        info = item.info if isinstance(item, Trace) else item
        tags = client.get_trace(info.trace_id).info.tags
    elif isinstance(item, LoggedModel):
        tags = client.get_logged_model(item.model_id).tags
    else:
        raise TypeError(f"linked_prompts takes a Run, Trace or LoggedModel, not {item!r}")
    return [f"{p['name']}/{p['version']}" for p in json.loads(tags.get(LINKED_PROMPTS_TAG, "[]"))]


# --- the model registry ------------------------------------------------------------------


def model_versions(name: str) -> list[ModelVersion]:
    """Every version of the registered model ``name``, oldest first ([] if none)."""
    versions = MlflowClient().search_model_versions(f"name = '{name}'")
    return sorted(versions, key=lambda v: int(v.version))


def aliases_of(name: str) -> dict[str, str]:
    """The registered model's aliases: alias -> version ({} if the model is missing)."""
    try:
        model = MlflowClient().get_registered_model(name)
    except MlflowException:
        return {}
    return {alias: str(version) for alias, version in (model.aliases or {}).items()}


def version_of_alias(name: str, alias: str) -> str | None:
    """The version that ``name@alias`` points at, or None."""
    return aliases_of(name).get(alias)


def stages_of(name: str) -> dict[str, str]:
    """Version -> registry stage, for versions that have one (stages are MLflow 2.x)."""
    return {
        str(v.version): v.current_stage
        for v in model_versions(name)
        if v.current_stage and v.current_stage != "None"
    }


# --- assessments ---------------------------------------------------------------------------


def assessments(
    trace: Trace | TraceInfo | str, name: str | None = None, source_type: str | None = None
) -> list[Assessment]:
    """The assessments (feedback and expectations) on a trace, read fresh from the store,
    optionally only those called ``name`` and from ``source_type``
    (``HUMAN``, ``LLM_JUDGE`` or ``CODE``)."""
    trace_id = trace if isinstance(trace, str) else _trace_id(trace)
    fresh = mlflow.get_trace(trace_id)
    found = fresh.info.assessments if fresh is not None else []
    return [
        a
        for a in found
        if (name is None or a.name == name)
        and (source_type is None or _source_type(a) == source_type)
    ]


def assessment_value(item: Assessment) -> Any:
    """The value of a feedback or an expectation."""
    if item.feedback is not None:
        return item.feedback.value
    return item.expectation.value if item.expectation is not None else None


def describe_assessments(items: list[Assessment]) -> str:
    """``correctness=yes (LLM_JUDGE), thumbs=False (HUMAN)``, for failure messages."""
    shown = [f"{a.name}={assessment_value(a)!r} ({_source_type(a)})" for a in items]
    return ", ".join(shown) if shown else "none"


def _trace_id(trace: Trace | TraceInfo) -> str:
    return trace.info.trace_id if isinstance(trace, Trace) else trace.trace_id


def _source_type(item: Assessment) -> str:
    source_type = item.source.source_type if item.source else None
    return str(getattr(source_type, "value", source_type))


# --- the prompt registry ------------------------------------------------------------------
# Prompts live in the registry beside models, but the model calls (get_registered_model,
# search_model_versions, aliases_of) do not see them; these read them the prompt way,
# straight from the store (no 60-second alias cache of load_prompt).


def prompt_versions(name: str) -> list[PromptVersion]:
    """Every version of the prompt ``name``, oldest first ([] if there is no such prompt).
    Each carries its aliases (``search_prompt_versions`` alone leaves them out)."""
    client = MlflowClient()
    try:
        found, token = [], None
        while True:
            page = client.search_prompt_versions(name, page_token=token)
            found += list(page)
            token = getattr(page, "token", None)
            if not token:
                break
    except MlflowException:
        return []
    numbers = sorted(int(v.version) for v in found)
    return [client.get_prompt_version(name, number) for number in numbers]


def prompt_aliases(name: str) -> dict[str, int]:
    """The prompt's aliases as they are in the store: alias -> version number
    ({} if there is no such prompt). ``latest`` is not an alias you set, so it is not here."""
    return {alias: int(v.version) for v in prompt_versions(name) for alias in v.aliases or []}
