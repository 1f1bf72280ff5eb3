"""Reference solution for module_07/ex09_online_monitoring: judges that the tracking server
runs on production traces by itself, and an alert when quality drops.

Register LLM judges on the production experiment and start them with a sampling
configuration: from then on the server's job runner picks up new traces (about once a
minute), runs the judges on a sample of them, and logs each verdict on its trace. Your code
only reads the verdicts back and raises an alert when the share of good answers falls.

Out of Databricks (MLflow 3.17), a judge can run on the server only if its model is an AI
Gateway endpoint of that server (``gateway:/<endpoint>``); code scorers made with
``@scorer`` and judges that need expectations cannot be started.
"""

from __future__ import annotations

import mlflow
from mlflow.entities import AssessmentSourceType
from mlflow.genai.judges import make_judge
from mlflow.genai.scorers import (
    RelevanceToQuery,
    Scorer,
    ScorerSamplingConfig,
    list_scorers,
)

RELEVANCE = "relevance"  # judges every production trace
TONE = "tone"  # judges a sample of them
TONE_SAMPLE_RATE = 0.25
PRODUCTION_FILTER = "tags.env = 'production'"
ALERT_TAG = "monitoring.alert"
TONE_INSTRUCTIONS = (
    "Is the answer in {{ outputs }} polite and professional for the question in "
    "{{ inputs }}? Answer 'yes' or 'no'."
)


def start_monitoring(experiment_id: str, judge_endpoint: str) -> list[Scorer]:
    """Register and start the two judges of the production experiment ``experiment_id``.

    - ``RELEVANCE``: the built-in ``RelevanceToQuery`` judge, on every trace that matches
      ``PRODUCTION_FILTER`` (sample rate 1.0);
    - ``TONE``: a ``make_judge`` judge with ``TONE_INSTRUCTIONS``, on a ``TONE_SAMPLE_RATE``
      share of the traces that match ``PRODUCTION_FILTER``.

    Both ask the gateway endpoint ``judge_endpoint`` of the tracking server (model
    ``f"gateway:/{judge_endpoint}"``): the only kind of model the server runs by itself.
    Returns the two started scorers, ``RELEVANCE`` first.
    """
    model = f"gateway:/{judge_endpoint}"
    tone = make_judge(
        name=TONE, instructions=TONE_INSTRUCTIONS, model=model, feedback_value_type=str
    )
    started = []
    for judge, rate in ((RelevanceToQuery(model=model), 1.0), (tone, TONE_SAMPLE_RATE)):
        name = RELEVANCE if judge is not tone else TONE
        registered = judge.register(name=name, experiment_id=experiment_id)
        started.append(
            registered.start(
                experiment_id=experiment_id,
                sampling_config=ScorerSamplingConfig(
                    sample_rate=rate, filter_string=PRODUCTION_FILTER
                ),
            )
        )
    return started


def pass_rate(experiment_id: str, judge: str = RELEVANCE) -> dict:
    """The verdicts of ``judge`` on the traces of ``experiment_id``, as the server logged them.

    Counts the traces that carry a feedback named ``judge`` from an ``LLM_JUDGE`` source
    without an error (a judge call that failed is not a verdict); when a trace has several,
    the most recent one counts. A verdict passes when its value is ``"yes"`` or ``True``.

    Returns ``{"judged": n, "passed": k, "rate": k / n}``, with ``"rate": None`` when no
    trace was judged.
    """
    judged = passed = 0
    for trace in mlflow.search_traces(locations=[experiment_id], return_type="list"):
        verdicts = [
            a for a in trace.info.assessments
            if a.name == judge and a.feedback is not None and a.error is None
            and a.source.source_type == AssessmentSourceType.LLM_JUDGE
        ]  # fmt: skip
        if not verdicts:
            continue
        latest = max(verdicts, key=lambda a: a.create_time_ms or 0)
        judged += 1
        passed += latest.value in ("yes", True)
    return {"judged": judged, "passed": passed, "rate": passed / judged if judged else None}


def check_quality(
    experiment_id: str, threshold: float = 0.8, min_judged: int = 5, judge: str = RELEVANCE
) -> str | None:
    """Raise an alert when the pass rate of ``judge`` is below ``threshold``.

    No alert (``None``) while fewer than ``min_judged`` traces are judged, or when the rate
    is at or above ``threshold``. An alert is the message
    ``f"{judge} pass rate {rate:.0%} is below {threshold:.0%} ({passed}/{judged} traces)"``,
    also set as the experiment tag ``ALERT_TAG``; that tag is left untouched otherwise.
    """
    stats = pass_rate(experiment_id, judge)
    if stats["judged"] < min_judged or stats["rate"] >= threshold:
        return None
    message = (
        f"{judge} pass rate {stats['rate']:.0%} is below {threshold:.0%} "
        f"({stats['passed']}/{stats['judged']} traces)"
    )
    mlflow.MlflowClient().set_experiment_tag(experiment_id, ALERT_TAG, message)
    return message


def stop_monitoring(experiment_id: str) -> list[str]:
    """Stop every judge registered on ``experiment_id`` (sample rate 0): the server no
    longer runs them, they stay registered and can be started again. Returns their names,
    sorted."""
    names = []
    for registered in list_scorers(experiment_id=experiment_id):
        registered.stop(experiment_id=experiment_id)
        names.append(registered.name)
    return sorted(names)
