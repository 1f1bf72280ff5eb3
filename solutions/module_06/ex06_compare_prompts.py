"""Reference solution for module_06/ex06_compare_prompts: pick the best prompt version."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
import openai
from mlflow.genai.scorers import scorer

PROMPT_VERSION_TAG = "prompt_version"
PRODUCTION_ALIAS = "production"
DEFAULT_MODEL = "gpt-4o-mini"


def make_predict_fn(prompt_uri: str, model: str = DEFAULT_MODEL) -> Callable[[str], str]:
    """The app under test: it answers a question with the registered prompt ``prompt_uri``.

    ``predict(question)`` fills the prompt's ``{{question}}`` variable, sends the
    result as the only (user) message to ``model`` with the OpenAI client (which
    reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` from the environment), and
    returns the reply's text.
    """
    prompt = mlflow.genai.load_prompt(prompt_uri)
    client = openai.OpenAI()

    def predict(question: str) -> str:
        message = prompt.format(question=question)
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": message}]
        )
        return reply.choices[0].message.content

    return predict


@scorer
def correct(outputs: str, expectations: dict) -> bool:
    """True when the answer contains ``expectations["expected_response"]``, ignoring case."""
    return str(expectations["expected_response"]).lower() in str(outputs).lower()


@scorer
def answer_length(outputs: str) -> int:
    """How many words (separated by whitespace) the answer has."""
    return len(str(outputs).split())


def evaluate_prompt_versions(
    prompt_name: str, versions: list[int], data: list[dict], model: str = DEFAULT_MODEL
) -> dict[int, dict[str, float]]:
    """Evaluate each version of the prompt ``prompt_name`` on the same ``data``.

    One evaluation run per version, tagged ``PROMPT_VERSION_TAG`` = the version
    number (as text), with the scorers ``correct`` and ``answer_length``. Returns
    ``{version: {"correct": <correct/mean>, "answer_length": <answer_length/mean>}}``.
    """
    scores = {}
    for version in versions:
        predict = make_predict_fn(f"prompts:/{prompt_name}/{version}", model)
        with mlflow.start_run(
            run_name=f"{prompt_name}-v{version}", tags={PROMPT_VERSION_TAG: str(version)}
        ):
            result = mlflow.genai.evaluate(
                data=data, predict_fn=predict, scorers=[correct, answer_length]
            )
        scores[version] = {
            "correct": result.metrics["correct/mean"],
            "answer_length": result.metrics["answer_length/mean"],
        }
    return scores


def pick_best(scores: dict[int, dict[str, float]]) -> int:
    """The winning version, by this rule:

    1. the highest ``correct`` wins;
    2. among versions equally correct, the lowest ``answer_length`` (shorter answers
       cost less and read faster);
    3. still tied: the lowest version number (the one in use longest).
    """
    # Sort keys: higher correct first, then shorter answers, then older versions.
    return min(scores, key=lambda v: (-scores[v]["correct"], scores[v]["answer_length"], v))


def promote_best(
    prompt_name: str, versions: list[int], data: list[dict], model: str = DEFAULT_MODEL
) -> int:
    """Evaluate the versions, pick the best by ``pick_best``'s rule, point the alias
    ``PRODUCTION_ALIAS`` of the prompt at it, and return its version number."""
    best = pick_best(evaluate_prompt_versions(prompt_name, versions, data, model))
    mlflow.genai.set_prompt_alias(prompt_name, alias=PRODUCTION_ALIAS, version=best)
    return best
