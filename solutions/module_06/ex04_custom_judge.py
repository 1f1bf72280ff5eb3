"""Reference solution for module_06/ex04_custom_judge: a custom judge and a tracked metric."""

from __future__ import annotations

import re
from collections.abc import Callable

import mlflow
from mlflow.genai.judges import Judge, make_judge
from mlflow.genai.scorers import scorer

JUDGE_NAME = "mlflow3_idioms"
AGGREGATIONS = ["mean", "min", "max", "p90"]
VERSION_TAG = "app_version"

_INSTRUCTIONS = """\
You review answers about MLflow for a team that has moved to MLflow 3.

Question: {{ inputs }}
Answer: {{ outputs }}

Does the answer recommend only MLflow 3 idioms? It must not recommend MLflow 2.x
habits such as registry stages (use aliases), the artifact_path argument (use name) or
mlflow.evaluate for GenAI apps (use mlflow.genai.evaluate). Answer true when it
recommends only MLflow 3 idioms, false otherwise."""


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
    return make_judge(
        name=JUDGE_NAME,
        instructions=_INSTRUCTIONS,
        feedback_value_type=bool,  # the judge model must answer true or false
        model=judge_model,
    )


_API = re.compile(r"\bmlflow(?:\.[A-Za-z_]\w*)+")


@scorer(aggregations=AGGREGATIONS)
def api_mentions(outputs: str) -> int:
    """How many *different* MLflow APIs the answer names: distinct texts such as
    ``mlflow.genai.evaluate`` or ``mlflow.search_traces`` (``mlflow.`` followed by
    dotted names; a full stop that ends a sentence is not part of a name). Its
    evaluation metrics are ``api_mentions/<aggregation>`` for each
    of ``AGGREGATIONS``."""
    return len(set(_API.findall(str(outputs))))


def evaluate_version(
    app_version: str, predict_fn: Callable[..., str], data: list[dict], judge_model: str
) -> str:
    """Evaluate one version of the app, in a run of its own, and return the run id.

    The run is named ``app_version`` and tagged ``VERSION_TAG`` = ``app_version``;
    the scorers are ``idioms_judge(judge_model)`` and ``api_mentions``. Call it once
    per version of the app: the runs side by side are the metrics' history.
    """
    with mlflow.start_run(run_name=app_version, tags={VERSION_TAG: app_version}) as run:
        # evaluate() logs into the active run instead of starting its own.
        mlflow.genai.evaluate(
            data=data, predict_fn=predict_fn, scorers=[idioms_judge(judge_model), api_mentions]
        )
    return run.info.run_id


def metric_history(metric: str) -> list[tuple[str, float]]:
    """The history of one evaluation metric across app versions, read from the store.

    Every run of the active experiment that has the tag ``VERSION_TAG`` and the
    metric ``metric`` (e.g. ``"api_mentions/mean"``) gives one
    ``(app_version, value)`` pair, oldest run first.
    """
    runs = mlflow.search_runs(
        filter_string=f"tags.{VERSION_TAG} != ''",
        order_by=["attributes.start_time ASC"],  # search_runs is newest first by default
        output_format="list",
    )
    return [
        (run.data.tags[VERSION_TAG], run.data.metrics[metric])
        for run in runs
        if VERSION_TAG in run.data.tags and metric in run.data.metrics
    ]
