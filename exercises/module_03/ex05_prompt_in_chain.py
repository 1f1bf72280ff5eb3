"""Exercise 5: a registered prompt in a LangChain chain, with lineage.

In Module 2 the sentiment chain carried its prompt inline, as a string in the
code. Here the chain loads it from the registry by alias, so a new wording
ships by moving ``production``, and every answer can be traced back to the
exact prompt version that produced it.

MLflow records that link for you when you load the prompt at the right
moment: ``mlflow.genai.load_prompt`` links the version it returns to the
trace that is open and to the run that is active at that moment. A prompt
written in the code, or loaded before the trace starts, leaves no link.

Build:

1. ``build_chain(prompt, llm)``: ``ChatPromptTemplate | llm | StrOutputParser()``
   from a registered prompt (text or chat).
2. ``classify(review, llm, prompt_uri)``: one trace per review, which loads the
   prompt by alias *inside* the trace and runs the chain.
3. ``classify_batch(reviews, llm, prompt_uri)``: a batch inside one MLflow run.

The chat model is a parameter: the tests pass a fake one
(``fixtures.fake_chat.SentimentChatModel``); with ``ChatOpenAI(model="gpt-4o-mini")``
or ``ChatOllama(model="llama3.2")`` the same code runs against a real LLM.

MLflow APIs practised: ``mlflow.genai.load_prompt`` by alias,
``PromptVersion.to_single_brace_format``, ``@mlflow.trace``,
``mlflow.start_run``; optionally ``mlflow.langchain.autolog()`` to see the
chain's own spans under yours.

Done looks like this: in the MLflow UI a trace shows the prompt version it
used, the run's page lists the prompt, and the prompt's page lists the run.

Run the checks: ``uv run pytest exercises/module_03/test_ex05_prompt_in_chain.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser  # noqa: F401
from langchain_core.prompts import ChatPromptTemplate  # noqa: F401
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
    # TODO: convert the prompt to single braces, build a ChatPromptTemplate from it
    #       (as in exercise 3), and pipe it into llm and StrOutputParser().
    raise NotImplementedError("build_chain: not written yet (see the TODO above)")


def classify(review: str, llm: BaseChatModel, prompt_uri: str = PRODUCTION_URI) -> str:
    """Label one review with the registered prompt, as one trace.

    Inside the trace, load the prompt that ``prompt_uri`` names (by default the
    version the ``production`` alias points at *now*), build the chain with it
    and run it on ``{"text": review}``. Return the answer stripped and
    lower-cased, e.g. ``"positive"``.

    Loading the prompt while the trace is open links that exact prompt version
    to the trace; loading it while a run is active links it to the run too.
    """
    # TODO: trace this function (@mlflow.trace); inside it, load the prompt by its URI,
    #       build the chain, invoke it with the review, return the cleaned-up answer.
    raise NotImplementedError("classify: not written yet (see the TODO above)")


def classify_batch(reviews: list[str], llm: BaseChatModel, prompt_uri: str = PRODUCTION_URI) -> str:
    """Label every review inside one MLflow run, one ``classify`` trace per review.

    Log the metric ``reviews_classified`` (how many reviews) on the run. The
    run ends up linked to the prompt version used, and the traces to the run.
    Leave no run active.

    Returns:
        The run's id.
    """
    # TODO: start a run, classify each review in it, log the metric, return the run id.
    raise NotImplementedError("classify_batch: not written yet (see the TODO above)")
