"""Exercise 7: a RAG Q&A agent: retrieval, a registered prompt, a model, one trace.

The learning plan's "simple agent": answer questions about a set of documents.
Three steps, each visible in the trace:

1. *retrieve* the documents that match the question (here: keyword overlap over
   the kata's corpus; Module 5 does it with embeddings at scale). Traced as a
   RETRIEVER span whose output is the documents, so you can tell a retrieval
   miss from a model mistake;
2. fill the *answer prompt*, kept in MLflow's prompt registry rather than in
   the code: loading it inside the trace links the trace to the exact prompt
   version that produced the answer;
3. call the *model*, through LangChain (``ChatPromptTemplate | ChatOpenAI |
   StrOutputParser``) with ``mlflow.langchain.autolog()``, which records the
   prompt template and the model call as spans.

Build ``retrieve(question, k)`` and ``answer_question(question, prompt_uri)``.
The tests register the prompt (variables ``{{context}}`` and ``{{question}}``)
and point ``ChatOpenAI`` at a fake OpenAI server through ``OPENAI_BASE_URL``;
the same code talks to OpenAI (or any compatible server) by configuration.

MLflow APIs practised: ``@mlflow.trace(span_type=SpanType.RETRIEVER)``,
``mlflow.genai.load_prompt``, ``PromptVersion.to_single_brace_format()``,
``mlflow.langchain.autolog()``.

Done looks like this: in the UI, one trace per question: rag_agent (AGENT) with
the retrieval (RETRIEVER, listing the documents) and the LangChain chain
(prompt, CHAT_MODEL) under it; the trace's Prompts tab shows the version used.

Run the checks: ``uv run pytest exercises/module_04/test_ex07_rag_agent.py``
"""

from __future__ import annotations

import re

import mlflow  # noqa: F401
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser  # noqa: F401
from langchain_core.prompts import ChatPromptTemplate  # noqa: F401
from langchain_openai import ChatOpenAI  # noqa: F401
from mlflow.entities import SpanType  # noqa: F401

from fixtures.data import load_corpus  # noqa: F401 - {"file.md": "text", ...}

MODEL = "gpt-4o-mini"
TOP_K = 3

# TODO: turn on MLflow's LangChain autologging here.

_STOPWORDS = {
    "about", "does", "from", "have", "into", "much", "such", "than", "that", "their",
    "them", "then", "there", "they", "this", "what", "when", "where", "which", "with",
    "written", "your",
}  # fmt: skip


def _words(text: str) -> set[str]:
    return {
        word
        for word in re.findall(r"[a-z0-9_.@*\[\]]+", text.lower())
        if len(word) > 3 and word not in _STOPWORDS
    }


def _score(question: str, text: str) -> int:
    """How many of the question's words (longer than 3 letters, no stop words) the text has."""
    return len(_words(question) & _words(text))


def retrieve(question: str, k: int = TOP_K) -> list[Document]:
    """The ``k`` corpus documents that best match ``question``, best first.

    Score every document of ``fixtures.data.load_corpus()`` with ``_score``, drop
    those that score 0, and return the best ``k`` as LangChain ``Document``s: the
    text as ``page_content``, the file name as ``metadata["source"]``. The call is
    a RETRIEVER span whose output is the documents.
    """
    # TODO: trace as a RETRIEVER span; score each document, keep those above 0, sort best
    #       first, take k, and wrap each in Document(page_content=..., metadata={"source": ...}).
    raise NotImplementedError("retrieve: not written yet (see the TODO above)")


def answer_question(question: str, prompt_uri: str) -> str:
    """Answer ``question`` from the corpus, with the registered prompt ``prompt_uri``.

    1. ``retrieve`` the best documents;
    2. load the prompt from the registry (``mlflow.genai.load_prompt``), inside the
       trace, so the trace is linked to the prompt version; its template has the
       variables ``{{context}}`` and ``{{question}}``;
    3. fill it with the documents (each one's text after its source name) and the
       question, and send it as the user message to ``ChatOpenAI(model=MODEL)``
       (it reads ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``), with LangChain
       autologging on;
    4. return the model's reply as text.

    One trace per question: an AGENT root span with the RETRIEVER span and the
    CHAT_MODEL span under it.
    """
    # TODO: trace as the AGENT; retrieve; build the context text; load the prompt; make a
    #       ChatPromptTemplate from its single-brace template (as a "user" message), pipe it
    #       into ChatOpenAI(model=MODEL) and a StrOutputParser, and invoke the chain with
    #       the context and the question.
    raise NotImplementedError("answer_question: not written yet (see the TODO above)")
