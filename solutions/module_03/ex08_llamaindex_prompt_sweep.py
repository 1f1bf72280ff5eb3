"""Reference solution for module_03/ex08_llamaindex_prompt_sweep: a registered prompt as
the QA template of a LlamaIndex query engine, and the variable values that work best.

The prompt registry holds the question-answering template; a LlamaIndex query engine
uses it (``text_qa_template``) with some of its variables filled in (``max_words``,
``tone``) and the others (``context_str``, ``query_str``) left to LlamaIndex. Every
answer is a trace linked to the prompt version it used. A sweep tries every
combination of variable values and retrieval depth (``top_k``) on a question set, one
MLflow run each, and records the best combination on the parent run and on the prompt
version.
"""

from __future__ import annotations

import functools
import itertools
import json
from typing import Any

import mlflow
from llama_index.core import Document, PromptTemplate, VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter
from llama_index.llms.openai import OpenAI
from mlflow.entities import SpanType
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
    return mlflow.genai.register_prompt(
        name=PROMPT_NAME,
        template=QA_TEMPLATE,
        commit_message="QA template for the LlamaIndex query engine",
        tags={"framework": "llama_index"},
    )


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
    with mlflow.start_span("answer", span_type=SpanType.CHAIN) as span:
        span.set_inputs({"question": question, "variables": variables, "top_k": top_k})
        # Loaded inside the trace: the trace records which prompt version answered.
        prompt = mlflow.genai.load_prompt(prompt_uri)
        template = PromptTemplate(prompt.to_single_brace_format()).partial_format(**variables)
        engine = _index().as_query_engine(
            llm=OpenAI(model=MODEL), text_qa_template=template, similarity_top_k=top_k
        )
        text = str(engine.query(question))
        span.set_outputs(text)
    return text


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
    with mlflow.start_run(nested=mlflow.active_run() is not None):
        mlflow.log_params({**variables, "top_k": top_k, "prompt_uri": prompt_uri})
        answers = [answer(q["question"], prompt_uri, variables, top_k) for q in questions]
        correct = [
            q["answer"].lower() in a.lower() for q, a in zip(questions, answers, strict=True)
        ]
        scores = {
            "accuracy": sum(correct) / len(questions),
            "mean_answer_words": sum(len(a.split()) for a in answers) / len(questions),
        }
        mlflow.log_metrics(scores)
    return scores


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
    names = list(variables)
    combinations = [
        (dict(zip(names, values[:-1], strict=True)), values[-1])
        for values in itertools.product(*variables.values(), top_ks)
    ]
    with mlflow.start_run(run_name=SWEEP_RUN_NAME) as parent:
        results = [
            (evaluate_combination(prompt_uri, chosen, top_k, questions), index)
            for index, (chosen, top_k) in enumerate(combinations)
        ]
        # Best accuracy, then fewer words, then the first tried.
        scores, index = min(
            results, key=lambda r: (-r[0]["accuracy"], r[0]["mean_answer_words"], r[1])
        )
        best_variables, best_top_k = combinations[index]
        mlflow.set_tags({f"best.{k}": str(v) for k, v in best_variables.items()})
        mlflow.set_tag("best.top_k", str(best_top_k))
        mlflow.log_metric("best_accuracy", scores["accuracy"])

    prompt = mlflow.genai.load_prompt(prompt_uri, link_to_model=False)
    for key, value in {
        "best_variables": json.dumps(best_variables, sort_keys=True),
        "best_top_k": str(best_top_k),
        "best_accuracy": str(scores["accuracy"]),
    }.items():
        mlflow.genai.set_prompt_version_tag(prompt.name, prompt.version, key, value)
    return {
        "variables": best_variables,
        "top_k": best_top_k,
        "accuracy": scores["accuracy"],
        "run_id": parent.info.run_id,
    }
