"""Reference solution for module_03/ex07_compare_versions: evaluate prompt versions, promote."""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import openai
from mlflow.genai.scorers import scorer

PROMPT_NAME = "sentiment"
PRODUCTION = "production"
MODEL = "gpt-4o-mini"
METRIC = "correct_label/mean"


@dataclass
class Comparison:
    """The outcome of compare_and_promote."""

    accuracy: dict[int, float]  # version -> its correct_label/mean
    winner: int  # the version production points at afterwards
    run_id: str  # the comparison run


@scorer
def correct_label(outputs: str, expectations: dict) -> bool:
    """True when the model's answer, stripped and lower-cased, is the expected label
    ``expectations["label"]``."""
    return str(outputs).strip().lower() == expectations["label"]


def to_eval_data(reviews: list[dict[str, str]]) -> list[dict]:
    """The reviews (``{"text", "label"}``) as evaluation rows:
    ``{"inputs": {"text": ...}, "expectations": {"label": ...}}``."""
    return [{"inputs": {"text": r["text"]}, "expectations": {"label": r["label"]}} for r in reviews]


def evaluate_version(
    version: int, reviews: list[dict[str, str]], name: str = PROMPT_NAME
) -> tuple[str, float]:
    """Evaluate one prompt version on ``reviews`` in an evaluation run of its own.

    ``mlflow.genai.evaluate`` runs a ``predict_fn(text)`` on every row: it loads
    ``prompts:/<name>/<version>`` (so the run and the traces are linked to that
    version), fills in ``text``, asks ``MODEL`` through ``openai.OpenAI()`` (one
    user message) and returns the answer. The scorer is ``correct_label``.

    Returns:
        ``(run_id, accuracy)``: the evaluation run and its ``METRIC``.
    """
    uri = f"prompts:/{name}/{version}"

    def predict_fn(text: str) -> str:
        prompt = mlflow.genai.load_prompt(uri)
        reply = openai.OpenAI().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt.format(text=text)}]
        )
        return reply.choices[0].message.content or ""

    # nested=True: inside compare_and_promote this becomes a child of the comparison run;
    # on its own it is an ordinary run.
    with mlflow.start_run(run_name=f"{name}-v{version}", nested=True) as run:
        result = mlflow.genai.evaluate(
            data=to_eval_data(reviews), predict_fn=predict_fn, scorers=[correct_label]
        )
    return run.info.run_id, float(result.metrics[METRIC])


def compare_and_promote(
    reviews: list[dict[str, str]], versions: list[int], name: str = PROMPT_NAME
) -> Comparison:
    """Evaluate each version, point ``PRODUCTION`` at the best one, log the comparison.

    Inside one comparison run, evaluate every version with ``evaluate_version``
    (one evaluation run each, nested under it), then log on the comparison run
    the metric ``accuracy_v<version>`` for each version and the tag
    ``winner_version``. The winner is the most accurate version; on a tie the
    earliest of them in ``versions`` wins. Move ``PRODUCTION`` to it.
    """
    accuracy: dict[int, float] = {}
    with mlflow.start_run(run_name=f"compare-{name}") as comparison:
        for version in versions:
            _, accuracy[version] = evaluate_version(version, reviews, name)
        # max() keeps the first of equal values: the earliest version wins a tie.
        winner = max(versions, key=lambda v: accuracy[v])
        mlflow.log_metrics({f"accuracy_v{v}": a for v, a in accuracy.items()})
        mlflow.set_tag("winner_version", str(winner))
    mlflow.genai.set_prompt_alias(name, alias=PRODUCTION, version=winner)
    return Comparison(accuracy=accuracy, winner=winner, run_id=comparison.info.run_id)
