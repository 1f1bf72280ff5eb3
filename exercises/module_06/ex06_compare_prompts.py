"""Exercise 6: compare prompt versions on one dataset and promote the best.

Module 3 registered prompts and moved aliases by hand. Here the evaluation
decides: every version of a prompt answers the same questions, the same
scorers grade the answers, each version's results land in a run of its own,
and a rule *stated in advance* picks the winner, which gets the alias
``production``. The application loads ``prompts:/<name>@production``, so
promoting (or rolling back) is one alias move, no redeploy.

The app calls a chat model with the OpenAI client, which reads
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` from the environment: the tests
point them at a fake model on 127.0.0.1 whose answers depend on the prompt's
wording (a bare question gets a vague reply, "explain ..." a long one, "in one
short phrase" a short one); with your own key the same code asks OpenAI.

Build:

1. ``make_predict_fn(prompt_uri, model)``: the app, answering with one prompt version.
2. ``correct`` and ``answer_length``: the two code scorers.
3. ``evaluate_prompt_versions(prompt_name, versions, data, model)``: one tagged
   evaluation run per version; their scores.
4. ``pick_best(scores)``: the rule, in code.
5. ``promote_best(prompt_name, versions, data, model)``: evaluate, pick, move the alias.

MLflow APIs practised: ``mlflow.genai.load_prompt``, ``PromptVersion.format``,
``mlflow.genai.evaluate`` inside ``mlflow.start_run``, ``@scorer``,
``mlflow.genai.set_prompt_alias``.

Done looks like this: in the UI, three evaluation runs tagged
``prompt_version`` side by side (compare ``correct/mean`` and
``answer_length/mean``), and on the **Prompts** page the alias ``production``
on the winning version, which is not always the newest.

Run the checks: ``uv run pytest exercises/module_06/test_ex06_compare_prompts.py``
"""

from __future__ import annotations

from collections.abc import Callable

import mlflow  # noqa: F401 - you will need these
import openai  # noqa: F401
from mlflow.genai.scorers import scorer  # noqa: F401

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
    # TODO: load the prompt, make an OpenAI client, and return a predict(question)
    #       function that formats the prompt and asks the model.
    raise NotImplementedError("make_predict_fn: not written yet (see the TODO above)")


def correct(outputs: str, expectations: dict) -> bool:
    """True when the answer contains ``expectations["expected_response"]``, ignoring case."""
    # TODO: make this a scorer and check that the expected response is in the answer.
    raise NotImplementedError("correct: not written yet (see the TODO above)")


def answer_length(outputs: str) -> int:
    """How many words (separated by whitespace) the answer has."""
    # TODO: make this a scorer and count the words.
    raise NotImplementedError("answer_length: not written yet (see the TODO above)")


def evaluate_prompt_versions(
    prompt_name: str, versions: list[int], data: list[dict], model: str = DEFAULT_MODEL
) -> dict[int, dict[str, float]]:
    """Evaluate each version of the prompt ``prompt_name`` on the same ``data``.

    One evaluation run per version, tagged ``PROMPT_VERSION_TAG`` = the version
    number (as text), with the scorers ``correct`` and ``answer_length``. Returns
    ``{version: {"correct": <correct/mean>, "answer_length": <answer_length/mean>}}``.
    """
    # TODO: for each version: build the app from prompts:/<name>/<version>, start a tagged
    #       run, evaluate inside it, and keep the two means from the result's metrics.
    raise NotImplementedError("evaluate_prompt_versions: not written yet (see the TODO above)")


def pick_best(scores: dict[int, dict[str, float]]) -> int:
    """The winning version, by this rule:

    1. the highest ``correct`` wins;
    2. among versions equally correct, the lowest ``answer_length`` (shorter answers
       cost less and read faster);
    3. still tied: the lowest version number (the one in use longest).
    """
    # TODO: apply the three steps of the rule, in order.
    raise NotImplementedError("pick_best: not written yet (see the TODO above)")


def promote_best(
    prompt_name: str, versions: list[int], data: list[dict], model: str = DEFAULT_MODEL
) -> int:
    """Evaluate the versions, pick the best by ``pick_best``'s rule, point the alias
    ``PRODUCTION_ALIAS`` of the prompt at it, and return its version number."""
    # TODO: evaluate, pick, set the prompt alias, return the winner.
    raise NotImplementedError("promote_best: not written yet (see the TODO above)")
