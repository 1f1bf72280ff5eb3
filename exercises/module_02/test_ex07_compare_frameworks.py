"""Checks for ex07_compare_frameworks: two frameworks on the same questions, compared by trace."""

import math

import mlflow
import pytest
from mlflow.entities import SpanType
from mlflow.tracing.constant import SpanAttributeKey

from fixtures.messages import shown
from fixtures.runs import all_runs
from fixtures.traces import search_traces, trace_of

QUESTIONS = [
    "Why add an overlap between consecutive chunks?",
    "How are variables written in a prompt registry template?",
]


# --- trace_summary, on traces made by the test ----------------------------------------------


@mlflow.trace(span_type=SpanType.RETRIEVER)
def _search(question):
    return [{"page_content": "some text", "metadata": {"file_name": "a.md"}}]


@mlflow.trace(span_type=SpanType.CHAT_MODEL)
def _chat(question, docs):
    mlflow.get_current_active_span().set_attribute(
        SpanAttributeKey.CHAT_USAGE, {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    )
    return "an answer"


@mlflow.trace(span_type=SpanType.CHAIN)
def _rag(question):
    docs = _search(question) + _search(f"{question} (rephrased)")
    return _chat(question, docs)


@mlflow.trace(span_type=SpanType.AGENT)
def _broken(question):
    raise RuntimeError("the agent broke")


def test_trace_summary_reads_counts_types_latency_tokens_and_status(exercise):
    _, trace = trace_of(_rag, "q")

    summary = exercise.trace_summary(trace)

    expected = {
        "trace_id": trace.info.trace_id,
        "span_count": 4,
        "span_types": "CHAIN,CHAT_MODEL,RETRIEVER",
        "latency_ms": trace.info.execution_duration,
        "total_tokens": 10,
        "status": "OK",
    }
    assert summary == expected, (
        f"expected trace_summary of a CHAIN > RETRIEVER, RETRIEVER, CHAT_MODEL trace (10 tokens) "
        f"to be {expected} (each span type once, sorted); got {shown(summary)}"
    )


def test_trace_summary_of_a_failed_trace_without_tokens(exercise):
    def broken():
        with pytest.raises(RuntimeError):
            _broken("q")

    trace_of(broken)
    trace = search_traces()[-1]

    summary = exercise.trace_summary(trace)

    keys = ("span_count", "span_types", "total_tokens", "status")
    found = {k: summary.get(k) for k in keys} if isinstance(summary, dict) else summary
    expected = {"span_count": 1, "span_types": "AGENT", "total_tokens": 0, "status": "ERROR"}
    assert found == expected, (
        f"expected a failed one-span AGENT trace with no token usage to give {expected}; "
        f"got {shown(found)}"
    )


# --- compare_frameworks, with a real LangChain chain and a LlamaIndex engine -------------------


@pytest.fixture
def chain(fake_llm_env):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI

    prompt = ChatPromptTemplate.from_messages([("human", "Answer briefly: {question}")])
    return prompt | ChatOpenAI(model="gpt-4o-mini") | StrOutputParser()


@pytest.fixture
def query_engine():
    from llama_index.core import Document, VectorStoreIndex

    from fixtures.data import load_corpus
    from fixtures.llama import ExtractiveLLM, KeywordEmbedding

    docs = [Document(text=t, metadata={"file_name": n}) for n, t in load_corpus().items()]
    index = VectorStoreIndex.from_documents(docs, embed_model=KeywordEmbedding())
    return index.as_query_engine(llm=ExtractiveLLM(), similarity_top_k=2)


@pytest.fixture
def compared(exercise, chain, query_engine):
    """(run id, the table's rows, the traces of the run by id)."""
    run_id = exercise.compare_frameworks(QUESTIONS, chain, query_engine)
    try:
        table = mlflow.load_table(exercise.COMPARISON_FILE, run_ids=[run_id])
    except Exception as err:  # noqa: BLE001 - a wrong id or no table is the learner's mistake
        raise AssertionError(
            f"expected compare_frameworks to return the id of a run that logged the table "
            f"{exercise.COMPARISON_FILE}; it returned {shown(run_id)} and the table could not be "
            f"read: {type(err).__name__}: {shown(str(err))}"
        ) from None
    traces = {t.info.trace_id: t for t in search_traces(run_id=run_id)}
    return run_id, table.to_dict("records"), traces


def test_one_finished_run_with_a_row_per_framework_and_question_and_framework_metrics(
    exercise, compared
):
    run_id, rows, _ = compared

    runs = [(r.info.run_id, r.info.status, r.info.run_name) for r in all_runs()]
    assert [run[:2] for run in runs] == [(run_id, "FINISHED")], (
        f"expected compare_frameworks to record one FINISHED run and return its id "
        f"{shown(run_id)}; found runs {runs}"
    )
    assert runs[0][2] == "framework-comparison", (
        f"expected the run to be named after run_name, 'framework-comparison' by default; "
        f"found {runs[0][2]!r}"
    )
    assert rows and set(rows[0]) == set(exercise.COLUMNS), (
        f"expected the run's table {exercise.COMPARISON_FILE} to have the columns "
        f"{exercise.COLUMNS}; found {sorted(rows[0]) if rows else 'no rows'}"
    )
    pairs = sorted((r["framework"], r["question"]) for r in rows)
    expected = sorted((f, q) for f in ("langchain", "llamaindex") for q in QUESTIONS)
    assert pairs == expected, (
        f"expected one row per (framework, question), {expected}; found {pairs}"
    )

    metrics = mlflow.get_run(run_id).data.metrics
    for framework in ("langchain", "llamaindex"):
        mine = [r for r in rows if r["framework"] == framework]
        expected = {
            f"{framework}_mean_latency_ms": sum(r["latency_ms"] for r in mine) / len(mine),
            f"{framework}_mean_span_count": sum(r["span_count"] for r in mine) / len(mine),
            f"{framework}_total_tokens": sum(r["total_tokens"] for r in mine),
        }
        for key, value in expected.items():
            assert key in metrics and math.isclose(metrics[key], value), (
                f"expected the run metric {key} = {value} (from the table); found "
                f"{metrics.get(key, 'no such metric')}"
            )


def _expected_summary(trace):
    usage = trace.info.token_usage or {}
    return {
        "span_count": len(trace.data.spans),
        "span_types": ",".join(sorted({s.span_type for s in trace.data.spans})),
        "latency_ms": trace.info.execution_duration,
        "total_tokens": usage.get("total_tokens") or 0,
        "status": trace.info.state.value,
    }


def test_every_row_describes_its_own_trace_linked_to_the_run(exercise, compared):
    _, rows, traces = compared

    ids = [r.get("trace_id") for r in rows]
    assert len(set(ids)) == len(rows) and set(ids) <= set(traces), (
        f"expected each row to name a different trace recorded inside the run "
        f"({len(traces)} traces are linked to it); the rows name {ids}. Record both "
        "frameworks' calls inside the run, with autolog on for each framework."
    )
    for row in rows:
        keys = ("span_count", "span_types", "latency_ms", "total_tokens", "status")
        found = {k: row.get(k) for k in keys}
        expected = _expected_summary(traces[row["trace_id"]])
        assert found == expected, (
            f"expected the {row.get('framework')} row for {shown(row.get('question'))} to match "
            "its trace: "
            f"{expected}; found {shown(found)}"
        )
        types = str(row["span_types"]).split(",")
        if row["framework"] == "langchain":
            assert "CHAT_MODEL" in types and row["total_tokens"] > 0, (
                f"expected each langchain row to name a trace with a CHAT_MODEL span and token "
                f"usage; found span types {types} and {row['total_tokens']} tokens"
            )
        else:
            assert "RETRIEVER" in types, (
                f"expected each llamaindex row to name a query trace with a RETRIEVER span; "
                f"found span types {types}"
            )
