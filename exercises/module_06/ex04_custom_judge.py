"""Exercise 4: a judge for your own rule, and a metric you follow across versions.

Built-in judges cover common qualities; your team's rules need a judge of
their own. ``mlflow.genai.judges.make_judge`` builds one from a name, a model
and instructions written in plain words, with template variables
(``{{ inputs }}``, ``{{ outputs }}``, ``{{ expectations }}``...) that MLflow
fills in for every row, and a ``feedback_value_type`` that fixes what the
verdict can be (``bool``, ``int``, a ``Literal[...]`` of labels...).

Code metrics can summarise more than a mean: ``@scorer(aggregations=[...])``
logs ``/min``, ``/max``, ``/p90``... as well. And a metric is worth most as a
history: evaluate each version of the app in a run of its own, tag the run
with the version, and read the metric back across runs to see whether the app
got better.

Build:

1. ``idioms_judge(judge_model)``: a ``make_judge`` judge for the rule "the
   answer recommends only MLflow 3 idioms".
2. ``api_mentions``: a code scorer with aggregations, counting the MLflow APIs
   an answer names.
3. ``evaluate_version(app_version, predict_fn, data, judge_model)``: one
   evaluation run per app version, named and tagged with it.
4. ``metric_history(metric)``: the metric's value per version, oldest first,
   read back from the runs.

MLflow APIs practised: ``mlflow.genai.judges.make_judge``,
``@scorer(aggregations=...)``, ``mlflow.genai.evaluate`` inside
``mlflow.start_run``, ``mlflow.search_runs(filter_string=, order_by=)``.

Done looks like this: in the UI, select the evaluation runs of the experiment
and **Compare** them: ``api_mentions/mean`` and ``mlflow3_idioms/mean`` side
by side, one column per app version.

Run the checks: ``uv run pytest exercises/module_06/test_ex04_custom_judge.py``
"""

from __future__ import annotations

import re  # noqa: F401 - handy for finding the API names
from collections.abc import Callable

import mlflow  # noqa: F401 - you will need these
from mlflow.genai.judges import Judge, make_judge  # noqa: F401
from mlflow.genai.scorers import scorer  # noqa: F401

JUDGE_NAME = "mlflow3_idioms"
AGGREGATIONS = ["mean", "min", "max", "p90"]
VERSION_TAG = "app_version"


def idioms_judge(judge_model: str) -> Judge:
    """A custom LLM judge, made with ``make_judge``, for this team's rule.

    - name: ``JUDGE_NAME``;
    - instructions: your words for the rule "the answer recommends only MLflow 3
      idioms (aliases rather than stages, the ``name`` argument rather than ``artifact_path``,
      ``mlflow.genai.evaluate`` rather than ``mlflow.evaluate``)", showing the judge
      both the question (``{{ inputs }}``) and the answer (``{{ outputs }}``);
    - a yes/no verdict: ``feedback_value_type=bool``;
    - ``model=judge_model``.
    """
    # TODO: write the instructions (with both template variables) and return make_judge(...).
    raise NotImplementedError("idioms_judge: not written yet (see the TODO above)")


def api_mentions(outputs: str) -> int:
    """How many *different* MLflow APIs the answer names: distinct texts such as
    ``mlflow.genai.evaluate`` or ``mlflow.search_traces`` (``mlflow.`` followed by
    dotted names; a full stop that ends a sentence is not part of a name). Its
    evaluation metrics are ``api_mentions/<aggregation>`` for each
    of ``AGGREGATIONS``."""
    # TODO: make this a scorer with aggregations=AGGREGATIONS and count the distinct
    #       mlflow.<name>[.<name>...] texts in the answer.
    raise NotImplementedError("api_mentions: not written yet (see the TODO above)")


def evaluate_version(
    app_version: str, predict_fn: Callable[..., str], data: list[dict], judge_model: str
) -> str:
    """Evaluate one version of the app, in a run of its own, and return the run id.

    The run is named ``app_version`` and tagged ``VERSION_TAG`` = ``app_version``;
    the scorers are ``idioms_judge(judge_model)`` and ``api_mentions``. Call it once
    per version of the app: the runs side by side are the metrics' history.
    """
    # TODO: start a named, tagged run; evaluate inside it; return its id.
    raise NotImplementedError("evaluate_version: not written yet (see the TODO above)")


def metric_history(metric: str) -> list[tuple[str, float]]:
    """The history of one evaluation metric across app versions, read from the store.

    Every run of the active experiment that has the tag ``VERSION_TAG`` and the
    metric ``metric`` (e.g. ``"api_mentions/mean"``) gives one
    ``(app_version, value)`` pair, oldest run first.
    """
    # TODO: search the runs of the active experiment (mind the order), keep those with
    #       the tag and the metric, and return (version, value) pairs.
    raise NotImplementedError("metric_history: not written yet (see the TODO above)")
