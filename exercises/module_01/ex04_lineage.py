"""Exercise 4: lineage, everything MLflow links to a LoggedModel.

A GenAI app has no weights to log, yet MLflow 3 still gives it a LoggedModel:
``mlflow.set_active_model(name=...)`` creates (or finds) one and makes it the
model that everything recorded from then on is linked to. The traces of each
request, the runs that evaluate the app, and the prompt versions it loads all
point back to that model, and you can walk those links from the model.

Build:

1. ``answer(question, prompt_uri)``: a traced function that loads a registered
   prompt and fills it in (no LLM needed: the filled-in prompt is the reply).
2. ``run_app(model_name, prompt_uri, questions)``: run the app as the active
   model ``model_name``, inside a run, one trace per question.
3. ``model_lineage(model_id)``: ask MLflow, not your memory, which traces, runs
   and prompt versions are linked to a model.

MLflow APIs practised: ``mlflow.set_active_model``, ``@mlflow.trace``,
``mlflow.genai.load_prompt``, ``mlflow.start_run``, ``mlflow.get_logged_model``,
``mlflow.search_traces(model_id=...)``, ``mlflow.search_runs`` /
``mlflow.get_run`` (run inputs and outputs).

Done looks like this: in the UI, the LoggedModel's page lists its traces and
runs, and the prompt's page shows the model that uses it; ``model_lineage``
returns the same links for a model built by someone else's code.

Run the checks: ``uv run pytest exercises/module_01/test_ex04_lineage.py``
"""

from __future__ import annotations

import json  # noqa: F401 - useful for some MLflow tag values
from dataclasses import dataclass, field

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import Run  # noqa: F401 - a run's inputs and outputs live here


@dataclass
class ModelLineage:
    """What MLflow links to one LoggedModel."""

    model_id: str
    trace_ids: set[str] = field(default_factory=set)
    run_ids: set[str] = field(default_factory=set)
    prompt_versions: set[str] = field(default_factory=set)  # "name/version", e.g. "qa/2"


def answer(question: str, prompt_uri: str) -> str:
    """Answer one question with a registered prompt, as one trace.

    Load the prompt version ``prompt_uri`` (e.g. ``"prompts:/qa/1"``) from the
    prompt registry in every call, *while the trace is open*, fill its ``{{question}}``
    variable, and return the filled-in text: there is no LLM in this exercise,
    the formatted prompt stands in for its reply. The trace records the question
    as its input and the reply as its output (``@mlflow.trace`` does both).
    """
    # TODO: decorate this function with @mlflow.trace; load the prompt by its URI with
    #       mlflow.genai.load_prompt, fill in the question and return the text.
    raise NotImplementedError("answer: not written yet (see the TODO above)")


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
    # TODO: set the active model by name, start a run, answer each question, log the
    #       metric questions_answered, and return the active model's id.
    raise NotImplementedError("run_app: not written yet (see the TODO above)")


def model_lineage(model_id: str) -> ModelLineage:
    """Read back from MLflow, not from memory, everything linked to ``model_id``.

    - ``trace_ids``: the traces recorded for the model;
    - ``run_ids``: the model's source run (if any), and every run that lists the
      model among its inputs or outputs;
    - ``prompt_versions``: the prompt versions linked to the model, as
      ``"name/version"`` strings.

    The model can live in any experiment; look only there.
    """
    # TODO: get the LoggedModel (its experiment, source run and tags), search its
    #       traces by model_id, find the runs that list it as an input or output, and
    #       read the prompt versions linked to it. Return a ModelLineage.
    raise NotImplementedError("model_lineage: not written yet (see the TODO above)")
