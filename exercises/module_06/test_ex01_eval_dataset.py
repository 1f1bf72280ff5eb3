"""Checks for ex01_eval_dataset: an evaluation dataset, read back from the store as it grows."""

import mlflow
import pytest
from mlflow.entities import AssessmentSource
from mlflow.genai.datasets import get_dataset, search_datasets

from fixtures.data import load_questions

QUESTIONS = [{"question": q["question"], "answer": q["answer"]} for q in load_questions()]
NAME = "qa-eval"


def _record(question, answer, category="normal"):
    return {
        "inputs": {"question": question},
        "expectations": {"expected_response": answer},
        "tags": {"category": category},
    }


FIRST = [_record(q["question"], q["answer"]) for q in QUESTIONS[:3]]
MORE = [_record(q["question"], q["answer"]) for q in QUESTIONS[3:5]]


def _rows(dataset_id):
    """The dataset's records as read back from the store: a list of dicts."""
    return get_dataset(dataset_id=dataset_id).to_df().to_dict("records")


def _questions_of(rows):
    return sorted((row["inputs"] or {}).get("question", "") for row in rows)


def _named(name):
    return [d for d in search_datasets() if d.name == name]


def _category(record):
    return (record.get("tags") or {}).get("category")


@pytest.fixture(autouse=True)
def _experiment():
    mlflow.set_experiment("kata-ex01-datasets")


# --- seed_records ---------------------------------------------------------------------


def test_seed_records_has_one_normal_record_per_question_with_its_answer(exercise):
    records = exercise.seed_records(QUESTIONS[:3])

    normal = [r for r in records if _category(r) == "normal"]
    found = {
        (r.get("inputs") or {}).get("question"): (r.get("expectations") or {}).get(
            "expected_response"
        )
        for r in normal
    }
    expected = {q["question"]: q["answer"] for q in QUESTIONS[:3]}
    assert found == expected, (
        "expected one record tagged category='normal' per question, with inputs "
        "{'question': ...} and expectations {'expected_response': <its answer>}; "
        f"expected {expected}, found {found}"
    )


def test_seed_records_adds_edge_cases_and_failure_modes_of_your_own(exercise):
    records = exercise.seed_records(QUESTIONS[:2])

    categories = sorted({str(_category(r)) for r in records})
    for category in ("edge_case", "failure_mode"):
        assert category in categories, (
            f"expected at least one record with tags {{'category': '{category}'}}; "
            f"found the categories {categories}"
        )
    for record in records:
        question = (record.get("inputs") or {}).get("question")
        assert isinstance(question, str), (
            f"expected every record to have a question (a str) in its inputs; found {record}"
        )
        assert record.get("expectations"), (
            f"expected every record to say what a good answer is (non-empty expectations: "
            f"expected_response, expected_facts or guidelines); found {record}"
        )
    assert len({r["inputs"]["question"] for r in records}) == len(records), (
        "expected every record to have its own question: records with the same inputs "
        "overwrite each other in a dataset"
    )


# --- the dataset in the store ---------------------------------------------------------------


def test_the_dataset_is_created_with_its_records_and_version_tag(exercise):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")

    dataset = get_dataset(dataset_id=dataset_id)
    assert dataset.name == NAME, (
        f"expected the dataset to be named {NAME!r}; found {dataset.name!r}"
    )
    assert (dataset.tags or {}).get("version") == "v1", (
        f"expected the dataset tag version='v1'; found tags {dataset.tags}"
    )
    rows = _rows(dataset_id)
    assert _questions_of(rows) == _questions_of(FIRST), (
        f"expected the dataset to hold the {len(FIRST)} records given; found the questions "
        f"{_questions_of(rows)}"
    )
    assert all(_category(row) == "normal" for row in rows), (
        f"expected each record to keep its tags (category); found {[r['tags'] for r in rows]}"
    )


def test_adding_records_grows_the_same_dataset_and_bumps_its_version(exercise):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")

    count = exercise.add_records(dataset_id, MORE, "v2")

    rows = _rows(dataset_id)
    expected = _questions_of(FIRST + MORE)
    assert _questions_of(rows) == expected, (
        f"expected the dataset {dataset_id} to hold the first records and the new ones, "
        f"{len(expected)} in all; found {_questions_of(rows)}"
    )
    assert count == len(expected), (
        f"expected add_records to return the number of records now in the dataset, "
        f"{len(expected)}; got {count!r}"
    )
    named = _named(NAME)
    assert len(named) == 1, (
        f"expected one dataset named {NAME!r} that grows in place; found {len(named)} "
        "(create the dataset once, then get it by id and merge records into it)"
    )
    tags = get_dataset(dataset_id=dataset_id).tags or {}
    assert tags.get("version") == "v2", (
        f"expected the dataset tag version='v2' after adding records; found tags {tags}"
    )


def test_a_record_with_a_question_already_there_updates_it_instead_of_duplicating(exercise):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")
    question = FIRST[0]["inputs"]["question"]

    count = exercise.add_records(dataset_id, [_record(question, "a better answer")], "v2")

    rows = _rows(dataset_id)
    answers = [r["expectations"] for r in rows if r["inputs"].get("question") == question]
    assert count == len(FIRST) and answers == [{"expected_response": "a better answer"}], (
        f"expected the record of {question!r} to be updated in place ({len(FIRST)} records, "
        f"its expected_response 'a better answer'); found {count} records and for that "
        f"question {answers}"
    )


@pytest.fixture
def production_traces():
    """Four traces in the active experiment; only the first two are production traces
    that a user rated thumbs_down, each with a corrected answer logged by a reviewer."""

    @mlflow.trace
    def app(question):
        return "I am not sure."

    def traced(question, env, rating, corrected=None):
        app(question)
        trace_id = mlflow.get_last_active_trace_id()
        mlflow.set_trace_tag(trace_id, "env", env)
        mlflow.log_feedback(
            trace_id=trace_id,
            name="user_rating",
            value=rating,
            source=AssessmentSource(source_type="HUMAN", source_id="user-42"),
        )
        if corrected:
            mlflow.log_expectation(trace_id=trace_id, name="expected_response", value=corrected)
        return trace_id

    bad = [
        traced(QUESTIONS[6]["question"], "production", "thumbs_down", QUESTIONS[6]["answer"]),
        traced(QUESTIONS[7]["question"], "production", "thumbs_down", QUESTIONS[7]["answer"]),
    ]
    traced(QUESTIONS[8]["question"], "production", "thumbs_up")
    traced(QUESTIONS[9]["question"], "dev", "thumbs_down", QUESTIONS[9]["answer"])
    return {"bad": bad, "questions": [QUESTIONS[6], QUESTIONS[7]]}


def test_production_traces_rated_down_join_the_dataset_with_their_corrected_answers(
    exercise, production_traces
):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")

    count = exercise.add_production_failures(dataset_id, "v3")

    rows = _rows(dataset_id)
    from_traces = [r for r in rows if str(r.get("source_type")) in ("TRACE", "SourceType.TRACE")]
    expected = sorted(q["question"] for q in production_traces["questions"])
    assert _questions_of(from_traces) == expected, (
        "expected exactly the production traces rated thumbs_down to join the dataset as "
        f"records from traces (source TRACE): {expected}; found {_questions_of(from_traces)} "
        f"from traces, among {_questions_of(rows)}. Skip the thumbs_up trace and the dev trace."
    )
    answers = {r["inputs"]["question"]: r["expectations"] for r in from_traces}
    for item in production_traces["questions"]:
        assert answers[item["question"]] == {"expected_response": item["answer"]}, (
            f"expected the record of {item['question']!r} to carry the reviewer's corrected "
            f"answer as expected_response; found {answers[item['question']]}. Merging the "
            "traces themselves keeps their expectations."
        )
    assert count == len(FIRST) + len(expected), (
        f"expected add_production_failures to return the number of records now in the "
        f"dataset, {len(FIRST) + len(expected)}; got {count!r}"
    )
    tags = get_dataset(dataset_id=dataset_id).tags or {}
    assert tags.get("version") == "v3", f"expected the dataset tag version='v3'; found {tags}"
