"""Reference solution for module_03/ex05_prompt_in_chain: a chain that uses a registered prompt."""

from __future__ import annotations

import mlflow
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from mlflow.entities.model_registry import PromptVersion

PROMPT_NAME = "sentiment"
PRODUCTION_URI = "prompts:/sentiment@production"


def build_chain(prompt: PromptVersion, llm: BaseChatModel) -> Runnable:
    """The chain ``prompt template | llm | StrOutputParser()`` for a registered prompt.

    The template is the registered prompt turned into a LangChain
    ``ChatPromptTemplate`` (a text prompt becomes one human message, a chat
    prompt keeps its messages and roles). The chain takes a dict of the prompt's
    variables, e.g. ``{"text": review}``, and returns the model's answer as a string.
    """
    template = prompt.to_single_brace_format()
    if prompt.is_text_prompt:
        chat_template = ChatPromptTemplate.from_template(template)
    else:
        chat_template = ChatPromptTemplate.from_messages(
            [(m["role"], m["content"]) for m in template]
        )
    return chat_template | llm | StrOutputParser()


@mlflow.trace(span_type="CHAIN")
def classify(review: str, llm: BaseChatModel, prompt_uri: str = PRODUCTION_URI) -> str:
    """Label one review with the registered prompt, as one trace.

    Inside the trace, load the prompt that ``prompt_uri`` names (by default the
    version the ``production`` alias points at *now*), build the chain with it
    and run it on ``{"text": review}``. Return the answer stripped and
    lower-cased, e.g. ``"positive"``.

    Loading the prompt while the trace is open links that exact prompt version
    to the trace; loading it while a run is active links it to the run too.
    """
    # Loaded on every call, inside the trace: the trace records which version answered,
    # and a moved alias takes effect on the next request without a restart.
    prompt = mlflow.genai.load_prompt(prompt_uri)
    answer = build_chain(prompt, llm).invoke({"text": review})
    return answer.strip().lower()


def classify_batch(reviews: list[str], llm: BaseChatModel, prompt_uri: str = PRODUCTION_URI) -> str:
    """Label every review inside one MLflow run, one ``classify`` trace per review.

    Log the metric ``reviews_classified`` (how many reviews) on the run. The
    run ends up linked to the prompt version used, and the traces to the run.
    Leave no run active.

    Returns:
        The run's id.
    """
    with mlflow.start_run() as run:
        for review in reviews:
            classify(review, llm, prompt_uri)
        mlflow.log_metric("reviews_classified", len(reviews))
    return run.info.run_id
