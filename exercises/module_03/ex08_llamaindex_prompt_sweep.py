"""Exercise 8: a registered prompt inside LlamaIndex, and the variable values that work best.

A RAG app's question-answering prompt belongs in the prompt registry like any other:
versioned, aliased, linked to the traces it produced. Here LlamaIndex's query engine
uses a registered template as its ``text_qa_template``. The template has two kinds of
variables: ``context_str`` and ``query_str`` are LlamaIndex's (it fills them with the
retrieved chunks and the question), ``tone`` and ``max_words`` are yours. Which values
of yours work best, with which retrieval depth (``top_k``)? Try them all, one MLflow
run each, and record the winner on the sweep's run and on the prompt version.

1. ``register_qa_prompt``: register ``QA_TEMPLATE`` (MLflow's double braces).
2. ``answer``: one traced answer; the prompt loaded INSIDE the trace, so the trace is
   linked to that prompt version; MLflow's template turned into LlamaIndex's (single
   braces) with your variables filled in and LlamaIndex's left open.
3. ``evaluate_combination``: one run per combination of values, scored on questions.
4. ``sweep``: every combination under a parent run; the best one recorded.

MLflow APIs practised: ``mlflow.genai.register_prompt``, ``mlflow.genai.load_prompt``
and ``PromptVersion.to_single_brace_format``, prompt-to-trace and prompt-to-run links,
``mlflow.start_span``, nested runs, ``mlflow.genai.set_prompt_version_tag``; LlamaIndex's
``PromptTemplate.partial_format`` and ``as_query_engine(text_qa_template=...)``.

The model is LlamaIndex's ``OpenAI`` LLM. The tests point it at the kit's fake server,
whose model answers from the retrieved context and obeys "at most N words" (and
nothing else: the tone changes no answer). With a real key the same code runs
against OpenAI.

Done looks like this: the sweep's run has one child run per combination, each linked
to the prompt version; the prompt version's tags say which values won.

Run the checks: ``uv run pytest exercises/module_03/test_ex08_llamaindex_prompt_sweep.py``
"""

from __future__ import annotations

import functools
import itertools  # noqa: F401 - you will need these
import json  # noqa: F401
from typing import Any

import mlflow
from llama_index.core import Document, PromptTemplate, VectorStoreIndex  # noqa: F401
from llama_index.core.node_parser import SentenceSplitter
from llama_index.llms.openai import OpenAI  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401
from mlflow.entities.model_registry import PromptVersion

from fixtures.data import load_corpus
from fixtures.llama import KeywordEmbedding

PROMPT_NAME = "rag-qa"
MODEL = "gpt-4o-mini"
# The variables in double braces are the registry's; LlamaIndex fills context_str and
# query_str, the application fills max_words and tone.
QA_TEMPLATE = """You answer questions about MLflow and Spark from the context below.
Use a {{tone}} tone. Answer in at most {{max_words}} words.
---------------------
{{context_str}}
---------------------
Query: {{query_str}}
Answer: """
SWEEP_RUN_NAME = "prompt-variable-sweep"


@functools.cache
def _index() -> VectorStoreIndex:
    """The kit's corpus in 256-token chunks, embedded with KeywordEmbedding (built once)."""
    documents = [
        Document(text=text, metadata={"source": name}) for name, text in load_corpus().items()
    ]
    nodes = SentenceSplitter(chunk_size=256, chunk_overlap=20).get_nodes_from_documents(documents)
    return VectorStoreIndex(nodes, embed_model=KeywordEmbedding())


def register_qa_prompt() -> PromptVersion:
    """Register ``QA_TEMPLATE`` as a new version of the prompt ``PROMPT_NAME``, with a
    commit message and the tag ``framework`` = ``llama_index``.

    Returns:
        The new PromptVersion.
    """
    # TODO: mlflow.genai.register_prompt(name=..., template=..., commit_message=..., tags=...)
    raise NotImplementedError("register_qa_prompt: not written yet (see the TODO above)")


def answer(question: str, prompt_uri: str, variables: dict[str, Any], top_k: int) -> str:
    """Answer one question with the LlamaIndex query engine, as ONE trace.

    The trace's root span is named ``answer`` (type CHAIN), with inputs ``{"question",
    "variables", "top_k"}`` and the answer as outputs. Inside it, load the prompt that
    ``prompt_uri`` names (so that this prompt version is linked to this trace), turn it
    into a LlamaIndex ``PromptTemplate`` (single braces) with ``variables`` filled in
    (``partial_format``), and query ``_index()`` with a query engine that uses it as
    ``text_qa_template``, retrieves ``top_k`` chunks and answers with LlamaIndex's
    ``OpenAI(model=MODEL)`` LLM (it reads ``OPENAI_API_KEY``, and its endpoint from
    ``OPENAI_API_BASE``: the tests point it at a fake server).

    Returns:
        The response text.
    """
    # TODO: open the "answer" span; inside it load the prompt, make
    #       PromptTemplate(<single-brace text>).partial_format(**variables), and query
    #       _index().as_query_engine(llm=..., text_qa_template=..., similarity_top_k=...).
    raise NotImplementedError("answer: not written yet (see the TODO above)")


def evaluate_combination(
    prompt_uri: str, variables: dict[str, Any], top_k: int, questions: list[dict]
) -> dict[str, float]:
    """Score one combination on ``questions`` (dicts with ``question`` and ``answer``)
    inside ONE MLflow run (a child run when a run is active), one ``answer`` trace per
    question.

    The run has the params: each variable (``max_words``, ``tone`` ...), ``top_k``, and
    ``prompt_uri``; and the metrics ``accuracy`` (the fraction of answers that contain
    the expected answer, ignoring case) and ``mean_answer_words`` (the mean number of
    whitespace-separated words per answer).

    Returns:
        ``{"accuracy": ..., "mean_answer_words": ...}``.
    """
    # TODO: start a run (nested when one is active), log the params, answer every
    #       question, log and return the two metrics.
    raise NotImplementedError("evaluate_combination: not written yet (see the TODO above)")


def sweep(
    prompt_uri: str, variables: dict[str, list], top_ks: list[int], questions: list[dict]
) -> dict[str, Any]:
    """Try every combination of variable values and ``top_k`` and record the best one.

    Open a parent run named ``SWEEP_RUN_NAME``; under it, call ``evaluate_combination``
    once per combination, in ``itertools.product`` order of the variables' values (in
    the dict's key order) and then ``top_ks`` (e.g. ``{"max_words": [10, 25]}``,
    ``[1, 3]`` tries (10, 1), (10, 3), (25, 1), (25, 3)).

    The best combination has the highest ``accuracy``; among equal accuracies, the
    lower ``mean_answer_words``; among full ties, the one tried first.

    Record it on the parent run: the tags ``best.<variable>`` for each variable and
    ``best.top_k`` (values as strings), and the metric ``best_accuracy``. Record it on
    the prompt version too (``mlflow.genai.set_prompt_version_tag``): ``best_variables``
    = the best variables as JSON (``json.dumps(..., sort_keys=True)``, values as
    given), ``best_top_k`` and ``best_accuracy`` (as strings). Leave no run active.

    Returns:
        ``{"variables": {...}, "top_k": int, "accuracy": float, "run_id": <parent run id>}``.
    """
    # TODO: list the combinations (itertools.product), evaluate each under the parent run,
    #       pick the best (accuracy, then fewer words, then the first), tag the run and
    #       log best_accuracy; then tag the prompt version; return the dict.
    raise NotImplementedError("sweep: not written yet (see the TODO above)")
