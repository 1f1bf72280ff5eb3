"""Checks for ex04_rag_metrics: retrieval and answer metrics over a fixed result set.

No LLM and no index here: the results are written out below, so the right
value of every metric is known.
"""

import mlflow
import pytest

from fixtures.messages import shown
from fixtures.runs import all_runs

# Four answered questions. Ranks of the expected source: 1, 3 (after two chunks of
# another document), missing, nothing retrieved at all.
RESULTS = [
    {
        "question": "Which decorator traces a function?",
        "answer": "Use @mlflow.trace on it.",
        "sources": ["tracing.md", "prompts.md", "spark.md"],
        "expected_answer": "@MLflow.trace",
        "expected_source": "tracing.md",
    },
    {
        "question": "What replaced stages?",
        "answer": "No idea.",
        "sources": ["prompts.md", "prompts.md", "registry.md"],
        "expected_answer": "aliases",
        "expected_source": "registry.md",
    },
    {
        "question": "Which similarity ignores length?",
        "answer": "cosine similarity, as usual",
        "sources": ["spark.md", "chunking.md", "prompts.md"],
        "expected_answer": "cosine similarity",
        "expected_source": "embeddings.md",
    },
    {
        "question": "What is a LoggedModel?",
        "answer": "",
        "sources": [],
        "expected_answer": "a model entity",
        "expected_source": "logged_model.md",
    },
]

EXPECTED = {
    "source_retrieval_rate": 2 / 4,
    "hit_rate_at_1": 1 / 4,
    "hit_rate_at_3": 2 / 4,
    "mrr": (1 + 1 / 3 + 0 + 0) / 4,
    "mean_answer_length": (24 + 8 + 27 + 0) / 4,
    "answer_match_rate": 2 / 4,
    "num_questions": 4.0,
}

WHAT = {
    "source_retrieval_rate": "the expected source is among the retrieved sources in 2 of 4 "
    "results (a result that retrieved other documents does not count)",
    "hit_rate_at_1": "only the first result has its expected source first",
    "hit_rate_at_3": "two results have their expected source in their first 3",
    "mrr": "ranks 1, 3 (duplicates count: a rank is a position in 'sources'), missing, "
    "nothing retrieved: (1 + 1/3 + 0 + 0) / 4",
    "mean_answer_length": "answers of 24, 8, 27 and 0 characters",
    "answer_match_rate": "answers 1 and 3 contain the expected answer, ignoring case",
    "num_questions": "four results",
}


def close(a, b) -> bool:
    """``a`` is a number within 1e-9 of ``b`` (anything else, e.g. None, is not close)."""
    try:
        return abs(a - b) < 1e-9
    except TypeError:
        return False


def metrics_of(value, what: str) -> dict:
    """``value``, checked to be a dict of metrics."""
    assert isinstance(value, dict), (
        f"expected {what} to return a dict of metrics; got {shown(value)}"
    )
    return value


def test_source_retrieval_rate_counts_results_whose_expected_source_was_retrieved(exercise):
    got = exercise.source_retrieval_rate(RESULTS)
    assert close(got, EXPECTED["source_retrieval_rate"]), (
        f"expected source_retrieval_rate = {EXPECTED['source_retrieval_rate']} "
        f"({WHAT['source_retrieval_rate']}); got {shown(got)}"
    )


@pytest.mark.parametrize(("k", "expected"), [(1, 1 / 4), (2, 1 / 4), (3, 2 / 4), (10, 2 / 4)])
def test_hit_rate_at_k_looks_at_the_first_k_sources_only(exercise, k, expected):
    got = exercise.hit_rate_at_k(RESULTS, k)
    assert close(got, expected), (
        f"expected hit_rate_at_k(results, {k}) = {expected} (expected sources at ranks 1, 3, "
        f"missing, missing: count a result when its expected source is in sources[:k]); "
        f"got {shown(got)}"
    )


def test_mrr_uses_the_rank_of_the_first_matching_chunk_and_counts_misses_as_zero(exercise):
    got = exercise.mean_reciprocal_rank(RESULTS)
    assert close(got, EXPECTED["mrr"]), (
        f"expected mean_reciprocal_rank = {EXPECTED['mrr']:.4f} ({WHAT['mrr']}); got {shown(got)}"
    )


def test_mean_answer_length_counts_characters(exercise):
    got = exercise.mean_answer_length(RESULTS)
    assert close(got, EXPECTED["mean_answer_length"]), (
        f"expected mean_answer_length = {EXPECTED['mean_answer_length']} "
        f"({WHAT['mean_answer_length']}); got {shown(got)}"
    )


def test_answer_match_rate_ignores_case(exercise):
    got = exercise.answer_match_rate(RESULTS)
    assert close(got, EXPECTED["answer_match_rate"]), (
        f"expected answer_match_rate = {EXPECTED['answer_match_rate']} "
        f"({WHAT['answer_match_rate']}); got {shown(got)}"
    )


def test_no_results_give_zero_for_every_metric(exercise):
    calls = {
        "source_retrieval_rate": lambda: exercise.source_retrieval_rate([]),
        "hit_rate_at_k": lambda: exercise.hit_rate_at_k([], 3),
        "mean_reciprocal_rank": lambda: exercise.mean_reciprocal_rank([]),
        "mean_answer_length": lambda: exercise.mean_answer_length([]),
        "answer_match_rate": lambda: exercise.answer_match_rate([]),
    }
    got = {}
    for name, call in calls.items():
        try:
            got[name] = call()
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001 - e.g. ZeroDivisionError: reported below
            got[name] = f"raised {type(err).__name__}: {err}"
    assert all(isinstance(v, int | float) and v == 0.0 for v in got.values()), (
        f"expected 0.0 from every metric for an empty list of results; got {shown(got, 600)}"
    )


def test_rag_metrics_gives_every_metric_under_its_mlflow_key(exercise):
    got = metrics_of(exercise.rag_metrics(RESULTS), "rag_metrics")
    wrong = {k: got.get(k) for k in EXPECTED if not close(got.get(k), EXPECTED[k])}
    assert not wrong, "expected rag_metrics(results) to hold " + "; ".join(
        f"{k} = {EXPECTED[k]:.4f} ({WHAT[k]}), got {shown(wrong[k])}" for k in wrong
    )


QUESTIONS = [
    {"question": r["question"], "answer": r["expected_answer"], "source": r["expected_source"]}
    for r in RESULTS
]


def fake_ask(question: str) -> dict:
    """Answers as recorded in RESULTS, as exercise 3's ask would return them."""
    result = next(r for r in RESULTS if r["question"] == question)
    return {"answer": result["answer"], "sources": list(result["sources"])}


def test_evaluate_rag_logs_the_metrics_to_a_new_run_named_rag_evaluation(exercise):
    returned = metrics_of(exercise.evaluate_rag(fake_ask, QUESTIONS), "evaluate_rag")

    runs = all_runs()
    assert len(runs) == 1, f"expected evaluate_rag to log to one run; found {len(runs)} runs"
    assert mlflow.active_run() is None, "expected evaluate_rag to end the run it started"
    assert runs[0].info.run_name == "rag-evaluation", (
        f"expected the run to be named 'rag-evaluation'; found {runs[0].info.run_name!r}"
    )
    logged = runs[0].data.metrics
    wrong = [k for k in EXPECTED if not close(logged.get(k), EXPECTED[k])]
    assert not wrong, "expected the run's metrics to hold " + "; ".join(
        f"{k} = {EXPECTED[k]:.4f} ({WHAT[k]}), found {logged.get(k)}" for k in wrong
    )
    assert {k: returned.get(k) for k in EXPECTED} == {k: logged[k] for k in EXPECTED}, (
        f"expected evaluate_rag to return the metrics it logged; returned {shown(returned, 600)}"
    )


def test_evaluate_rag_logs_into_the_run_that_is_already_active(exercise):
    with mlflow.start_run(run_name="pipeline") as outer:
        exercise.evaluate_rag(fake_ask, QUESTIONS)
        active = mlflow.active_run()

    assert active is not None and active.info.run_id == outer.info.run_id, (
        "expected evaluate_rag to leave the caller's run active"
    )
    runs = all_runs()
    assert [r.info.run_name for r in runs] == ["pipeline"], (
        f"expected the metrics in the active run 'pipeline' and no run of evaluate_rag's own; "
        f"found runs {[r.info.run_name for r in runs]}"
    )
    assert close(runs[0].data.metrics.get("mrr"), EXPECTED["mrr"]), (
        f"expected the metric mrr on the active run; found {runs[0].data.metrics}"
    )


def test_evaluate_rag_logs_the_answers_as_a_table(exercise):
    exercise.evaluate_rag(fake_ask, QUESTIONS)

    run = all_runs()[0]
    names = [f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id)]
    assert "rag_results.json" in names, (
        f"expected the table artifact rag_results.json (mlflow.log_table); found artifacts {names}"
    )
    table = mlflow.load_table("rag_results.json", run_ids=[run.info.run_id])
    expected_columns = {"question", "answer", "sources", "expected_answer", "expected_source"}
    assert expected_columns <= set(table.columns) and len(table) == len(RESULTS), (
        f"expected one row per question with the columns {sorted(expected_columns)}; found "
        f"{len(table)} rows with the columns {list(table.columns)}"
    )
    rows = {row["question"]: row for row in table.to_dict("records")}
    assert sorted(rows, key=str) == sorted(q["question"] for q in QUESTIONS), (
        f"expected a row for each question; found {shown(list(table['question']), 600)}"
    )
    wrong = [
        f"{r['question']!r}: answer {shown(rows[r['question']]['answer'])}, expected_source "
        f"{shown(rows[r['question']]['expected_source'])}"
        for r in RESULTS
        if (rows[r["question"]]["answer"], rows[r["question"]]["expected_source"])
        != (r["answer"], r["expected_source"])
    ]
    assert not wrong, (
        "expected each row to hold the answer that ask gave and the expected source; "
        "wrong rows: " + "; ".join(wrong)
    )
