"""Reference solution for module_04/ex07_rag_agent: a Q&A agent that retrieves from the
corpus, answers with a prompt from the registry, and is traced end to end."""

from __future__ import annotations

import re

import mlflow
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from mlflow.entities import SpanType

from fixtures.data import load_corpus

MODEL = "gpt-4o-mini"
TOP_K = 3

# Every LangChain step of the chain (prompt template, chat model, parser) becomes a span.
mlflow.langchain.autolog()

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


@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(question: str, k: int = TOP_K) -> list[Document]:
    """The ``k`` corpus documents that best match ``question``, best first.

    Score every document of ``fixtures.data.load_corpus()`` with ``_score``, drop
    those that score 0, and return the best ``k`` as LangChain ``Document``s: the
    text as ``page_content``, the file name as ``metadata["source"]``. The call is
    a RETRIEVER span whose output is the documents.
    """
    corpus = load_corpus()
    scored = [(_score(question, text), name) for name, text in corpus.items()]
    best = sorted((pair for pair in scored if pair[0] > 0), key=lambda pair: -pair[0])[:k]
    return [Document(page_content=corpus[name], metadata={"source": name}) for _, name in best]


@mlflow.trace(name="rag_agent", span_type=SpanType.AGENT)
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
    documents = retrieve(question)
    context = "\n\n".join(f"[{d.metadata['source']}]\n{d.page_content}" for d in documents)
    # Loading inside the trace links the prompt version to this trace (and to the
    # active model and run, if any): the UI then shows which prompt made the answer.
    prompt = mlflow.genai.load_prompt(prompt_uri)
    template = ChatPromptTemplate.from_messages([("user", prompt.to_single_brace_format())])
    chain = template | ChatOpenAI(model=MODEL) | StrOutputParser()
    return chain.invoke({"context": context, "question": question})
