"""Exercise 9: production monitoring: judges that the tracking server runs by itself.

``mlflow.genai.evaluate`` judges a dataset when you run it. In production you want the
server to judge live traffic continuously: **register** judges on the production
experiment and **start** them with a sampling configuration (a sample rate and a trace
filter). From then on the server's job runner wakes up about once a minute, finds the
traces logged since its last pass that match each judge's filter, samples them at the
judge's rate, runs the judges and logs each verdict on its trace (an assessment from an
``LLM_JUDGE`` source). Your code only reads the verdicts back and raises an alert when
the share of good answers falls.

Outside Databricks (MLflow 3.17) the server runs a judge only if its model is an endpoint
of the server's own AI Gateway (``model="gateway:/<endpoint>"``, see exercise 8): the
gateway holds the judge model's key. ``@scorer`` code scorers and judges that need
expectations cannot be started.

Build:

1. ``start_monitoring(...)``: register and start two judges on the production traces.
2. ``pass_rate(...)``: the verdicts of a judge, read back from the traces.
3. ``check_quality(...)``: an alert (a message and an experiment tag) below a threshold.
4. ``stop_monitoring(...)``: stop the judges, keeping them registered.

The tests start a real ``mlflow server`` on 127.0.0.1 with a gateway endpoint ``judge``
answered by the kata's fake OpenAI server. Most tests run the server's scoring pass at
once (the same code its job runs every minute); one waits for the server's own scheduler.

MLflow APIs practised: ``Scorer.register(name=, experiment_id=)``,
``.start(sampling_config=ScorerSamplingConfig(sample_rate=, filter_string=))``,
``.stop()``, ``mlflow.genai.scorers.list_scorers``, built-in and ``make_judge`` judges with
a ``gateway:/`` model, assessments on traces, experiment tags.

Done looks like this: in the UI, the experiment's Judges tab lists ``relevance`` and
``tone`` with their rates; each production trace carries a ``relevance`` verdict, about a
quarter of them a ``tone`` verdict, staging traces none.

Run the checks: ``uv run pytest exercises/module_07/test_ex09_online_monitoring.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
from mlflow.entities import AssessmentSourceType  # noqa: F401
from mlflow.genai.judges import make_judge  # noqa: F401
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
    # TODO: for each judge: judge.register(name=..., experiment_id=...), then
    #       .start(experiment_id=..., sampling_config=ScorerSamplingConfig(...)).
    raise NotImplementedError("start_monitoring: not written yet (see the TODO above)")


def pass_rate(experiment_id: str, judge: str = RELEVANCE) -> dict:
    """The verdicts of ``judge`` on the traces of ``experiment_id``, as the server logged them.

    Counts the traces that carry a feedback named ``judge`` from an ``LLM_JUDGE`` source
    without an error (a judge call that failed is not a verdict); when a trace has several,
    the most recent one counts. A verdict passes when its value is ``"yes"`` or ``True``.

    Returns ``{"judged": n, "passed": k, "rate": k / n}``, with ``"rate": None`` when no
    trace was judged.
    """
    # TODO: mlflow.search_traces(locations=[experiment_id], return_type="list"); in each
    #       trace.info.assessments keep the verdicts of `judge` (source, error), the latest.
    raise NotImplementedError("pass_rate: not written yet (see the TODO above)")


def check_quality(
    experiment_id: str, threshold: float = 0.8, min_judged: int = 5, judge: str = RELEVANCE
) -> str | None:
    """Raise an alert when the pass rate of ``judge`` is below ``threshold``.

    No alert (``None``) while fewer than ``min_judged`` traces are judged, or when the rate
    is at or above ``threshold``. An alert is the message
    ``f"{judge} pass rate {rate:.0%} is below {threshold:.0%} ({passed}/{judged} traces)"``,
    also set as the experiment tag ``ALERT_TAG``; that tag is left untouched otherwise.
    """
    # TODO: pass_rate(...); None unless enough verdicts and a rate below the threshold;
    #       else the message, also set with MlflowClient().set_experiment_tag(...).
    raise NotImplementedError("check_quality: not written yet (see the TODO above)")


def stop_monitoring(experiment_id: str) -> list[str]:
    """Stop every judge registered on ``experiment_id`` (sample rate 0): the server no
    longer runs them, they stay registered and can be started again. Returns their names,
    sorted."""
    # TODO: list_scorers(experiment_id=...); .stop(experiment_id=...) on each.
    raise NotImplementedError("stop_monitoring: not written yet (see the TODO above)")
