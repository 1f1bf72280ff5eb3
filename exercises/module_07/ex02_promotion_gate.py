"""Exercise 2: a promotion gate, and a rollback.

A new version of the agent becomes the ``challenger``. It should become the
``champion`` (the version production serves) only on evidence: it is evaluated on the
evaluation set, and promoted only if its score meets a quality bar *and* beats the
current champion on the same data. When a promoted version misbehaves in production,
a rollback moves ``champion`` back to the version before it, and says why.

Everything the gate decides is written to the registry, not kept in memory: the
rollback of tomorrow runs in another process and must find the previous champion there.

Build:

1. ``word_recall``: a code scorer (``@scorer``) that measures how many of the expected
   response's words an answer contains.
2. ``evaluate_alias(model_name, alias, data)``: evaluate the version behind an alias with
   ``mlflow.genai.evaluate``, linked to that version's LoggedModel.
3. ``promotion_gate(model_name, data, bar)``: evaluate, decide, move the aliases, tag the
   versions; return a ``GateDecision``.
4. ``rollback(model_name, reason)``: move ``champion`` back, record the reason.

MLflow APIs practised: ``mlflow.genai.scorers.scorer``, ``mlflow.genai.evaluate(data=,
predict_fn=, scorers=, model_id=)``, ``MlflowClient().get_model_version_by_alias``,
``set_registered_model_alias`` / ``delete_registered_model_alias``,
``set_model_version_tag``, ``get_model_version(...).tags``.

The agents under test are ``ResponsesAgent`` models: ``agent.predict({"input": [{"role":
"user", "content": question}]})`` returns a dict whose ``output`` items hold the text
(``_answer_text`` below extracts it). The evaluation data has the shape of the Module 6
set: ``{"inputs": {"question": ...}, "expectations": {"expected_response": ...}}``.

Done looks like this: in the UI each evaluation run is linked to the version it
measured, with its ``word_recall/mean`` metric; the registry shows who is champion,
and the versions' tags tell the story (``gate_decision``, ``previous_champion``,
``rollback_reason``). No stages anywhere.

Run the checks: ``uv run pytest exercises/module_07/test_ex02_promotion_gate.py``
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import mlflow  # noqa: F401 - you will need these
from mlflow import MlflowClient  # noqa: F401
from mlflow.exceptions import MlflowException  # noqa: F401 - raised for a missing alias
from mlflow.genai.scorers import scorer  # noqa: F401

CHALLENGER = "challenger"
CHAMPION = "champion"
QUALITY_BAR = 0.6
METRIC = "word_recall/mean"
GATE_DECISION_TAG = "gate_decision"  # "promoted" or "rejected", on the challenger's version
PREVIOUS_CHAMPION_TAG = "previous_champion"  # on a promoted version: who was champion before
ROLLBACK_REASON_TAG = "rollback_reason"  # on a version that was rolled back


@dataclass
class GateDecision:
    """What the promotion gate decided, and on which evidence."""

    promoted: bool
    challenger_version: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None
    reason: str


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", str(text).lower()))


def _answer_text(response: dict) -> str:
    """The text of a ResponsesAgent response (the dict a loaded model returns)."""
    return "".join(
        part.get("text", "")
        for item in response.get("output", [])
        for part in item.get("content") or []
        if part.get("type") == "output_text"
    )


def word_recall(outputs: str, expectations: dict) -> float:
    """The share of the distinct words of ``expectations["expected_response"]`` that the
    answer ``outputs`` contains (words: lower-case runs of letters and digits); 1.0 when
    the expected response has no words."""
    # TODO: decorate with @scorer (its name becomes the metric's name: word_recall/mean);
    #       compare _words(...) of the expected response and of the answer.
    raise NotImplementedError("word_recall: not written yet (see the TODO above)")


def evaluate_alias(model_name: str, alias: str, data: list[dict]) -> float:
    """Evaluate the version that ``model_name@alias`` points at on ``data``.

    Load it with ``mlflow.pyfunc.load_model``, and run ``mlflow.genai.evaluate`` with a
    ``predict_fn(question)`` that returns the agent's answer text and the scorer
    ``word_recall``. Pass the version's LoggedModel id as ``model_id=`` (a version's
    ``source`` is ``models:/<model_id>``), so the evaluation run and its metric are
    linked to that model.

    Returns:
        The mean word recall (the run's ``word_recall/mean`` metric).
    """
    # TODO: find the version by alias, load models:/<name>@<alias>, evaluate, and return
    #       result.metrics[METRIC].
    raise NotImplementedError("evaluate_alias: not written yet (see the TODO above)")


def promotion_gate(model_name: str, data: list[dict], bar: float = QUALITY_BAR) -> GateDecision:
    """Promote the challenger to champion only if it meets the bar and beats the champion.

    Evaluate the ``challenger`` (and the ``champion``, if there is one) with
    ``evaluate_alias``. Promote when the challenger's score is at least ``bar`` and
    strictly greater than the champion's (any score beats no champion). Promoting means:
    tag the challenger's version ``previous_champion=<old champion version>`` (when there
    was one), point ``champion`` at it and delete the ``challenger`` alias. Either way,
    tag the challenger's version ``gate_decision`` with ``promoted`` or ``rejected``.

    Raises:
        ValueError: the model has no ``challenger``.
    """
    # TODO: look up both aliases (a missing alias raises MlflowException), evaluate,
    #       decide, write the aliases and tags, and return a GateDecision.
    raise NotImplementedError("promotion_gate: not written yet (see the TODO above)")


def rollback(model_name: str, reason: str) -> str:
    """Move ``champion`` back to the version that was champion before the current one.

    Read that version from the current champion's ``previous_champion`` tag (the gate
    wrote it), point ``champion`` at it, and record ``reason`` as the
    ``rollback_reason`` tag of the version being rolled back.

    Returns:
        The version that is champion again.

    Raises:
        ValueError: there is no champion, or it does not say which version came before.
    """
    # TODO: read the champion's version and its tags from the registry, move the alias,
    #       tag the rolled-back version, return the restored version.
    raise NotImplementedError("rollback: not written yet (see the TODO above)")
