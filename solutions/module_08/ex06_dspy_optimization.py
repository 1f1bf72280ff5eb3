"""Reference solution for module_08/ex06_dspy_optimization: optimize a DSPy program,
track it with MLflow, and version the prompt it learned.

DSPy writes prompts for you: you declare what goes in and out (a *signature*),
and an *optimizer* (here ``dspy.BootstrapFewShot``) picks the few-shot
demonstrations that make the program score best on a metric. MLflow traces
every DSPy call (``mlflow.dspy.autolog``), keeps the optimized program as a
LoggedModel (``mlflow.dspy.log_model``) and the prompt it learned as a prompt
version (``mlflow.genai.register_prompt``), with the scores before and after as
metrics of one run.

The model is ``openai/gpt-4o-mini`` reached through litellm (DSPy's client),
configured the usual way (``OPENAI_BASE_URL`` / ``OPENAI_API_BASE``,
``OPENAI_API_KEY``); in the tests the kata's fake server answers.
"""

from __future__ import annotations

from dataclasses import dataclass

# dspy 3.4.0 breaks litellm (DSPy's client) unless the real openai is imported first
import openai  # noqa: F401

# isort: split
import dspy
import mlflow

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
    lm = dspy.LM(model, cache=False)
    dspy.configure(lm=lm)
    mlflow.dspy.autolog()
    return lm


def build_program() -> dspy.Module:
    """The unoptimized program: ``dspy.Predict(ReviewSentiment)``, no demonstrations."""
    return dspy.Predict(ReviewSentiment)


def label_matches(example: dspy.Example, prediction: dspy.Prediction, trace=None) -> bool:
    """The metric: the predicted ``label`` equals the example's ``label``, ignoring case
    and surrounding whitespace. (DSPy passes ``trace`` while optimizing; ignore it.)"""
    return str(prediction.label).strip().lower() == str(example.label).strip().lower()


def to_examples(reviews: list[dict]) -> list[dspy.Example]:
    """``[{"text", "label"}]`` -> ``dspy.Example(review=text, label=label)`` with
    ``review`` marked as the input (``.with_inputs("review")``), in the same order."""
    return [dspy.Example(review=r["text"], label=r["label"]).with_inputs("review") for r in reviews]


def accuracy(program: dspy.Module, reviews: list[dict]) -> float:
    """The share of ``reviews`` (``{"text", "label"}``) that ``program`` labels right,
    as a fraction from 0.0 to 1.0.

    Use ``dspy.Evaluate`` with the metric ``label_matches`` and ``num_threads=1``.
    With autolog on, every review becomes a trace and gets a ``label_matches``
    feedback (True/False). Count the right ones in the result's ``results``
    (``(example, prediction, score)`` per review): its ``score`` is a percentage
    (0-100) rounded to two decimals.
    """
    evaluate = dspy.Evaluate(
        devset=to_examples(reviews),
        metric=label_matches,
        num_threads=1,
        display_progress=False,
    )
    result = evaluate(program)
    return sum(bool(score) for _, _, score in result.results) / len(reviews)


def prompt_template(program: dspy.Module) -> list[dict]:
    """The chat prompt ``program`` sends, as a template with one variable ``{{review}}``.

    Format it with DSPy's own adapter: ``dspy.ChatAdapter().format(signature,
    demos, inputs={"review": "{{review}}"})`` with the program's signature and
    demonstrations. The result is a list of ``{"role", "content"}`` messages:
    the system message, one user/assistant pair per demonstration, and the user
    message with the review. Filled in with a review, it is exactly what the
    program sends to the model for that review.
    """
    adapter = dspy.ChatAdapter()
    messages = adapter.format(program.signature, program.demos, inputs={"review": "{{review}}"})
    return [{"role": m["role"], "content": m["content"]} for m in messages]


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
    configure_dspy()
    program = build_program()
    with mlflow.start_run(run_name=RUN_NAME) as run:
        mlflow.log_params(
            {
                "optimizer": OPTIMIZER,
                "max_bootstrapped_demos": MAX_BOOTSTRAPPED_DEMOS,
                "max_labeled_demos": MAX_LABELED_DEMOS,
            }
        )
        baseline = accuracy(program, dev)
        mlflow.log_metric("baseline_accuracy", baseline)

        optimizer = dspy.BootstrapFewShot(
            metric=label_matches,
            max_bootstrapped_demos=MAX_BOOTSTRAPPED_DEMOS,
            max_labeled_demos=MAX_LABELED_DEMOS,
        )
        compiled = optimizer.compile(program, trainset=to_examples(train))
        optimized = accuracy(compiled, dev)
        mlflow.log_metric("optimized_accuracy", optimized)

        version = mlflow.genai.register_prompt(
            name=prompt_name,
            template=prompt_template(compiled),
            commit_message=f"{OPTIMIZER}: accuracy {baseline:.2f} -> {optimized:.2f}",
            tags={"optimizer": OPTIMIZER, "accuracy": str(optimized)},
        )
        info = mlflow.dspy.log_model(
            compiled,
            name=MODEL_NAME,
            prompts=[version],
            pip_requirements=["dspy", "mlflow"],  # no slow requirements inference
            use_dspy_model_save=True,
        )
    # Promote only a real improvement.
    promoted = optimized > baseline
    if promoted:
        mlflow.genai.set_prompt_alias(prompt_name, PRODUCTION_ALIAS, version.version)
    return DspyOptimization(
        run_id=run.info.run_id,
        baseline_accuracy=baseline,
        optimized_accuracy=optimized,
        model_id=info.model_id,
        prompt_version=int(version.version),
        promoted=promoted,
    )
