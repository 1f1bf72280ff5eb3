"""Exercise 6: optimize a DSPy program, track it with MLflow, version the prompt it learned.

With DSPy you do not write the prompt: you declare what goes in and what comes out
(a *signature*) and an *optimizer* (here ``dspy.BootstrapFewShot``) picks the
few-shot demonstrations that make the program score best on a metric. MLflow
traces every DSPy call (``mlflow.dspy.autolog``), keeps the optimized program as a
LoggedModel (``mlflow.dspy.log_model``), the prompt it learned as a prompt version
(``mlflow.genai.register_prompt``), and the scores before and after as metrics of
one run.

The model is ``openai/gpt-4o-mini`` reached through litellm (DSPy's client), found
the usual way (``OPENAI_BASE_URL`` / ``OPENAI_API_BASE``, ``OPENAI_API_KEY``). In
the tests a fake model on 127.0.0.1 answers; it only gives sentiment labels that
its prompt shows, so demonstrations of the three labels make it right. With your
own key the same code asks OpenAI.

Build:

1. ``configure_dspy()``: DSPy's LM, no cache, traced by MLflow.
2. ``build_program()``, ``label_matches(...)``, ``to_examples(...)``: the program,
   the metric and the data.
3. ``accuracy(program, reviews)``: ``dspy.Evaluate``, as a fraction.
4. ``prompt_template(program)``: the chat prompt a program sends, as a template.
5. ``optimize_program(train, dev, prompt_name)``: the whole job in one run.

MLflow APIs practised: ``mlflow.dspy.autolog``, ``mlflow.dspy.log_model(name=,
prompts=)``, ``mlflow.genai.register_prompt`` with a chat template,
``mlflow.genai.set_prompt_alias``, run params and metrics.

Done looks like this: in the UI, the run ``dspy-optimization`` shows
``baseline_accuracy`` and ``optimized_accuracy``, its LoggedModel
``sentiment_program`` links a version of the prompt whose messages carry the
chosen demonstrations, and every evaluated review is a trace with a
``label_matches`` feedback.

Run the checks: ``uv run pytest exercises/module_08/test_ex06_dspy_optimization.py``
"""

from __future__ import annotations

from dataclasses import dataclass

# dspy 3.4.0 breaks litellm (DSPy's client) unless the real openai is imported first
import openai  # noqa: F401

# isort: split
import dspy
import mlflow  # noqa: F401 - you will need it

LM_MODEL = "openai/gpt-4o-mini"  # litellm's "<provider>/<model>"
RUN_NAME = "dspy-optimization"
MODEL_NAME = "sentiment_program"
PRODUCTION_ALIAS = "production"
OPTIMIZER = "BootstrapFewShot"
MAX_BOOTSTRAPPED_DEMOS = 2
MAX_LABELED_DEMOS = 4


class ReviewSentiment(dspy.Signature):
    """Classify the sentiment of a product review."""

    review: str = dspy.InputField()
    label: str = dspy.OutputField()


@dataclass
class DspyOptimization:
    """What one optimization did."""

    run_id: str  # the MLflow run RUN_NAME
    baseline_accuracy: float  # the unoptimized program on the dev set, 0..1
    optimized_accuracy: float  # the optimized program on the same dev set, 0..1
    model_id: str  # the LoggedModel of the optimized program
    prompt_version: int  # the prompt version registered for it
    promoted: bool  # whether the production alias moved to that version


def configure_dspy(model: str = LM_MODEL) -> dspy.LM:
    """Point DSPy at ``model`` and trace every DSPy call in MLflow.

    Make a ``dspy.LM(model, cache=False)`` (no cache: every call reaches the
    model, and nothing is written to ``~/.dspy_cache``), make it DSPy's default
    LM with ``dspy.configure(lm=...)``, and turn on ``mlflow.dspy.autolog()``
    (its defaults: traces on, compile runs off). Return the LM.
    """
    # TODO: make dspy.LM(model, cache=False) and make it DSPy's default LM
    # TODO: turn on mlflow.dspy.autolog(), return the LM
    raise NotImplementedError("configure_dspy: not written yet (see the TODO above)")


def build_program() -> dspy.Module:
    """The unoptimized program: ``dspy.Predict(ReviewSentiment)``, no demonstrations."""
    # TODO: return dspy.Predict(ReviewSentiment)
    raise NotImplementedError("build_program: not written yet (see the TODO above)")


def label_matches(example: dspy.Example, prediction: dspy.Prediction, trace=None) -> bool:
    """The metric: the predicted ``label`` equals the example's ``label``, ignoring case
    and surrounding whitespace. (DSPy passes ``trace`` while optimizing; ignore it.)"""
    # TODO: compare prediction.label with example.label, ignoring case and surrounding whitespace
    raise NotImplementedError("label_matches: not written yet (see the TODO above)")


def to_examples(reviews: list[dict]) -> list[dspy.Example]:
    """``[{"text", "label"}]`` -> ``dspy.Example(review=text, label=label)`` with
    ``review`` marked as the input (``.with_inputs("review")``), in the same order."""
    # TODO: one dspy.Example(review=..., label=...) per review, with .with_inputs("review")
    raise NotImplementedError("to_examples: not written yet (see the TODO above)")


def accuracy(program: dspy.Module, reviews: list[dict]) -> float:
    """The share of ``reviews`` (``{"text", "label"}``) that ``program`` labels right,
    as a fraction from 0.0 to 1.0.

    Use ``dspy.Evaluate`` with the metric ``label_matches`` and ``num_threads=1``.
    With autolog on, every review becomes a trace and gets a ``label_matches``
    feedback (True/False). Count the right ones in the result's ``results``
    (``(example, prediction, score)`` per review): its ``score`` is a percentage
    (0-100) rounded to two decimals.
    """
    # TODO: run dspy.Evaluate(devset=..., metric=label_matches, num_threads=1) on the program
    # TODO: count the right ones in result.results and divide by the number of reviews
    raise NotImplementedError("accuracy: not written yet (see the TODO above)")


def prompt_template(program: dspy.Module) -> list[dict]:
    """The chat prompt ``program`` sends, as a template with one variable ``{{review}}``.

    Format it with DSPy's own adapter: ``dspy.ChatAdapter().format(signature,
    demos, inputs={"review": "{{review}}"})`` with the program's signature and
    demonstrations. The result is a list of ``{"role", "content"}`` messages:
    the system message, one user/assistant pair per demonstration, and the user
    message with the review. Filled in with a review, it is exactly what the
    program sends to the model for that review.
    """
    # TODO: format the program's signature and demos with dspy.ChatAdapter().format(...),
    #       the review being the placeholder "{{review}}"
    # TODO: keep only "role" and "content" of each message
    raise NotImplementedError("prompt_template: not written yet (see the TODO above)")


def optimize_program(train: list[dict], dev: list[dict], prompt_name: str) -> DspyOptimization:
    """Optimize ``build_program()`` and record everything in one MLflow run ``RUN_NAME``.

    Call ``configure_dspy()`` first. Then, inside the run:

    1. log params ``optimizer`` = ``OPTIMIZER``, ``max_bootstrapped_demos`` and
       ``max_labeled_demos`` (the two constants);
    2. log the metric ``baseline_accuracy``: ``accuracy`` of the unoptimized
       program on ``dev``;
    3. compile it with ``dspy.BootstrapFewShot(metric=label_matches,
       max_bootstrapped_demos=MAX_BOOTSTRAPPED_DEMOS,
       max_labeled_demos=MAX_LABELED_DEMOS)`` on ``to_examples(train)``;
    4. log the metric ``optimized_accuracy``: ``accuracy`` of the compiled program
       on the same ``dev``;
    5. register its ``prompt_template`` as a new version of the chat prompt
       ``prompt_name`` with the tags ``optimizer`` = ``OPTIMIZER`` and
       ``accuracy`` = the optimized accuracy as ``str(float)``;
    6. log the compiled program with ``mlflow.dspy.log_model(..., name=MODEL_NAME,
       prompts=[that version])``, so the LoggedModel links the prompt version;
    7. move the alias ``production`` of ``prompt_name`` to the new version only
       if the optimized accuracy is strictly higher than the baseline.

    Returns a ``DspyOptimization``.
    """
    # TODO: configure DSPy, then in one run: the params, baseline_accuracy,
    #       BootstrapFewShot's compile, optimized_accuracy
    # TODO: register the prompt template, log the compiled program linked to that version
    # TODO: move production only on a real improvement; return a DspyOptimization
    raise NotImplementedError("optimize_program: not written yet (see the TODO above)")
