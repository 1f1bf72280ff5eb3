"""Reference solution for module_07/ex02_promotion_gate: promote on evidence, roll back."""

from __future__ import annotations

import re
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.genai.scorers import scorer

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


@scorer
def word_recall(outputs: str, expectations: dict) -> float:
    """The share of the distinct words of ``expectations["expected_response"]`` that the
    answer ``outputs`` contains (words: lower-case runs of letters and digits); 1.0 when
    the expected response has no words."""
    expected = _words(expectations["expected_response"])
    if not expected:
        return 1.0
    return len(expected & _words(outputs)) / len(expected)


def _version_of(model_name: str, alias: str) -> str | None:
    try:
        return str(MlflowClient().get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


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
    client = MlflowClient()
    version = client.get_model_version_by_alias(model_name, alias)
    model_id = version.source.removeprefix("models:/")
    agent = mlflow.pyfunc.load_model(f"models:/{model_name}@{alias}")

    def predict_fn(question: str) -> str:
        request = {"input": [{"role": "user", "content": question}]}
        return _answer_text(agent.predict(request))

    result = mlflow.genai.evaluate(
        data=data, predict_fn=predict_fn, scorers=[word_recall], model_id=model_id
    )
    return float(result.metrics[METRIC])


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
    client = MlflowClient()
    challenger = _version_of(model_name, CHALLENGER)
    if challenger is None:
        raise ValueError(f"{model_name} has no {CHALLENGER!r} alias: nothing to evaluate")
    champion = _version_of(model_name, CHAMPION)

    challenger_score = evaluate_alias(model_name, CHALLENGER, data)
    champion_score = evaluate_alias(model_name, CHAMPION, data) if champion else None

    if challenger_score < bar:
        promoted, reason = False, f"score {challenger_score:.3f} is below the bar {bar}"
    elif champion_score is not None and challenger_score <= champion_score:
        promoted = False
        reason = (
            f"score {challenger_score:.3f} does not beat the champion "
            f"(version {champion}: {champion_score:.3f})"
        )
    else:
        promoted, reason = True, f"score {challenger_score:.3f} meets the bar {bar}"
        if champion_score is not None:
            reason += f" and beats the champion ({champion_score:.3f})"

    if promoted:
        if champion is not None:
            client.set_model_version_tag(model_name, challenger, PREVIOUS_CHAMPION_TAG, champion)
        client.set_registered_model_alias(model_name, CHAMPION, challenger)
        client.delete_registered_model_alias(model_name, CHALLENGER)
    decision = "promoted" if promoted else "rejected"
    client.set_model_version_tag(model_name, challenger, GATE_DECISION_TAG, decision)
    return GateDecision(
        promoted=promoted,
        challenger_version=challenger,
        challenger_score=challenger_score,
        champion_version=champion,
        champion_score=champion_score,
        reason=reason,
    )


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
    client = MlflowClient()
    current = _version_of(model_name, CHAMPION)
    if current is None:
        raise ValueError(f"{model_name} has no {CHAMPION!r}: nothing to roll back")
    tags = client.get_model_version(model_name, current).tags
    previous = tags.get(PREVIOUS_CHAMPION_TAG)
    if not previous:
        raise ValueError(
            f"version {current} of {model_name} has no {PREVIOUS_CHAMPION_TAG!r} tag: "
            "no earlier champion to go back to"
        )
    client.set_registered_model_alias(model_name, CHAMPION, previous)
    client.set_model_version_tag(model_name, current, ROLLBACK_REASON_TAG, reason)
    return previous
