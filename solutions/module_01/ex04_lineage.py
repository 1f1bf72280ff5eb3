"""Reference solution for module_01/ex04_lineage: what MLflow links to a model, read back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import mlflow
from mlflow.entities import Run

_LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"


@dataclass
class ModelLineage:
    """What MLflow links to one LoggedModel."""

    model_id: str
    trace_ids: set[str] = field(default_factory=set)
    run_ids: set[str] = field(default_factory=set)
    prompt_versions: set[str] = field(default_factory=set)  # "name/version", e.g. "qa/2"


@mlflow.trace
def answer(question: str, prompt_uri: str) -> str:
    """Answer one question with a registered prompt, as one trace.

    Load the prompt version ``prompt_uri`` (e.g. ``"prompts:/qa/1"``) from the
    prompt registry in every call, *while the trace is open*, fill its ``{{question}}``
    variable, and return the filled-in text: there is no LLM in this exercise,
    the formatted prompt stands in for its reply. The trace records the question
    as its input and the reply as its output (``@mlflow.trace`` does both).
    """
    prompt = mlflow.genai.load_prompt(prompt_uri)
    return prompt.format(question=question)


def run_app(model_name: str, prompt_uri: str, questions: list[str]) -> str:
    """Run the app as the LoggedModel ``model_name`` and record a run of it.

    Make ``model_name`` the active model (MLflow creates the LoggedModel if it
    does not exist yet, and reuses it if it does), then, inside a run:
    ``answer`` every question (one trace each) and log the metric
    ``questions_answered``. The traces, the run and the prompt must all end up
    linked to the model. Leave no run active.

    Returns:
        The ``model_id`` of the active model.
    """
    active = mlflow.set_active_model(name=model_name)
    with mlflow.start_run():
        for question in questions:
            answer(question, prompt_uri)
        mlflow.log_metric("questions_answered", len(questions))
    return active.model_id


def _linked_model_ids(run: Run) -> set[str]:
    inputs = run.inputs.model_inputs if run.inputs else []
    outputs = run.outputs.model_outputs if run.outputs else []
    return {m.model_id for m in inputs} | {m.model_id for m in outputs}


def model_lineage(model_id: str) -> ModelLineage:
    """Read back from MLflow, not from memory, everything linked to ``model_id``.

    - ``trace_ids``: the traces recorded for the model;
    - ``run_ids``: the model's source run (if any), and every run that lists the
      model among its inputs or outputs;
    - ``prompt_versions``: the prompt versions linked to the model, as
      ``"name/version"`` strings.

    The model can live in any experiment; look only there.
    """
    model = mlflow.get_logged_model(model_id)
    experiment_ids = [model.experiment_id]

    traces = mlflow.search_traces(
        locations=experiment_ids, model_id=model_id, include_spans=False, return_type="list"
    )

    # search_runs leaves a run's model inputs and outputs out; get_run has them.
    runs = mlflow.search_runs(experiment_ids=experiment_ids, output_format="list")
    run_ids = {
        run.info.run_id
        for run in runs
        if model_id in _linked_model_ids(mlflow.get_run(run.info.run_id))
    }
    if model.source_run_id:
        run_ids.add(model.source_run_id)

    linked = json.loads(model.tags.get(_LINKED_PROMPTS_TAG, "[]"))
    return ModelLineage(
        model_id=model_id,
        trace_ids={trace.info.trace_id for trace in traces},
        run_ids=run_ids,
        prompt_versions={f"{p['name']}/{p['version']}" for p in linked},
    )
