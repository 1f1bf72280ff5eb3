"""Checks for ex01_eval_dataset: an evaluation dataset, read back from the store as it grows."""

import mlflow
import pytest
from mlflow.entities import AssessmentSource
from mlflow.genai.datasets import get_dataset, search_datasets

from fixtures.data import load_questions
from fixtures.messages import shown
from fixtures.snapshots import store_snapshot

QUESTIONS = [{"question": q["question"], "answer": q["answer"]} for q in load_questions()]
NAME = "qa-eval"
EXPERIMENT = "kata-ex01-datasets"


def _record(question, answer, category="normal"):
    return {
        "inputs": {"question": question},
        "expectations": {"expected_response": answer},
        "tags": {"category": category},
    }


FIRST = [_record(q["question"], q["answer"]) for q in QUESTIONS[:3]]
MORE = [_record(q["question"], q["answer"]) for q in QUESTIONS[3:5]]


def _get(mapping, key):
    """``mapping[key]``, or None when the learner's value is not a dict."""
    return mapping.get(key) if isinstance(mapping, dict) else None


def _question(record):
    return _get(_get(record, "inputs"), "question")


def _category(record):
    return _get(_get(record, "tags"), "category")


def _records(records):
    assert isinstance(records, list) and all(isinstance(r, dict) for r in records), (
        f"expected seed_records to return a list of dicts (records); got {shown(records)}"
    )
    return records


def _dataset(dataset_id):
    """The dataset with this id, read from the store."""
    assert isinstance(dataset_id, str) and dataset_id, (
        f"expected the dataset's id (a str: dataset.dataset_id); got {shown(dataset_id)}"
    )
    return get_dataset(dataset_id=dataset_id)


def _rows(dataset_id):
    """The dataset's records as read back from the store: a list of dicts."""
    return _dataset(dataset_id).to_df().to_dict("records")


def _questions_of(rows):
    return sorted(str(_question(row) or "") for row in rows)


def _named(name):
    return [d for d in search_datasets() if d.name == name]


@pytest.fixture(autouse=True)
def _experiment(request):
    if "production_traces" in request.fixturenames:
        request.getfixturevalue("production_traces")  # its store first, then the experiment
    return mlflow.set_experiment(EXPERIMENT)


# --- seed_records ---------------------------------------------------------------------


def test_seed_records_has_one_normal_record_per_question_with_its_answer(exercise):
    records = _records(exercise.seed_records(QUESTIONS[:3]))

    normal = [r for r in records if _category(r) == "normal"]
    found = {_question(r): _get(_get(r, "expectations"), "expected_response") for r in normal}
    expected = {q["question"]: q["answer"] for q in QUESTIONS[:3]}
    assert found == expected and len(normal) == len(expected), (
        "expected one record tagged category='normal' per question, with inputs "
        "{'question': ...} and expectations {'expected_response': <its answer>}; "
        f"expected {expected}, found {shown(normal, 600)}"
    )


def test_seed_records_adds_edge_cases_and_failure_modes_of_your_own(exercise):
    records = _records(exercise.seed_records(QUESTIONS[:2]))

    categories = sorted({str(_category(r)) for r in records})
    for category in ("edge_case", "failure_mode"):
        assert category in categories, (
            f"expected at least one record with tags {{'category': '{category}'}}; "
            f"found the categories {categories}"
        )
    for record in records:
        assert isinstance(_question(record), str), (
            f"expected every record to have a question (a str) in its inputs; found {shown(record)}"
        )
        assert _get(record, "expectations"), (
            f"expected every record to say what a good answer is (non-empty expectations: "
            f"expected_response, expected_facts or guidelines); found {shown(record)}"
        )
    assert len({_question(r) for r in records}) == len(records), (
        "expected every record to have its own question: records with the same inputs "
        "overwrite each other in a dataset"
    )


# --- the dataset in the store ---------------------------------------------------------------


def test_the_dataset_is_created_in_the_active_experiment_with_its_records_and_version_tag(
    exercise, _experiment
):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")

    dataset = _dataset(dataset_id)
    assert dataset.name == NAME, (
        f"expected the dataset to be named {NAME!r}; found {dataset.name!r}"
    )
    assert (dataset.tags or {}).get("version") == "v1", (
        f"expected the dataset tag version='v1'; found tags {dataset.tags}"
    )
    assert _experiment.experiment_id in (dataset.experiment_ids or []), (
        f"expected the dataset to belong to the active experiment {EXPERIMENT!r} "
        f"({_experiment.experiment_id}); it belongs to the experiments {dataset.experiment_ids}"
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
        f"{len(expected)}; got {shown(count)}"
    )
    named = _named(NAME)
    assert len(named) == 1, (
        f"expected one dataset named {NAME!r} that grows in place; found {len(named)} "
        "(create the dataset once, then get it by id and merge records into it)"
    )
    tags = _dataset(dataset_id).tags or {}
    assert tags.get("version") == "v2", (
        f"expected the dataset tag version='v2' after adding records; found tags {tags}"
    )


def test_a_record_with_a_question_already_there_updates_it_instead_of_duplicating(exercise):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")
    question = FIRST[0]["inputs"]["question"]

    count = exercise.add_records(dataset_id, [_record(question, "a better answer")], "v2")

    rows = _rows(dataset_id)
    answers = [r["expectations"] for r in rows if _question(r) == question]
    assert count == len(FIRST) and answers == [{"expected_response": "a better answer"}], (
        f"expected the record of {question!r} to be updated in place ({len(FIRST)} records, "
        f"its expected_response 'a better answer'); found {shown(count)} records and for "
        f"that question {answers}"
    )


def _production_traces():
    """Four traces in the experiment kata-ex01-datasets; only the first two are production
    traces that a user rated thumbs_down, each with a corrected answer logged by a
    reviewer. One more production trace rated thumbs_down lives in another experiment."""

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

    mlflow.set_experiment("kata-ex01-another-app")
    traced(QUESTIONS[5]["question"], "production", "thumbs_down", QUESTIONS[5]["answer"])
    mlflow.set_experiment(EXPERIMENT)
    bad = [
        traced(QUESTIONS[6]["question"], "production", "thumbs_down", QUESTIONS[6]["answer"]),
        traced(QUESTIONS[7]["question"], "production", "thumbs_down", QUESTIONS[7]["answer"]),
    ]
    traced(QUESTIONS[8]["question"], "production", "thumbs_up")
    traced(QUESTIONS[9]["question"], "dev", "thumbs_down", QUESTIONS[9]["answer"])
    return {"bad": bad, "questions": [QUESTIONS[6], QUESTIONS[7]]}


production_traces = store_snapshot(_production_traces, name="production_traces")


def test_production_traces_rated_down_join_the_dataset_with_their_corrected_answers(
    exercise, production_traces
):
    dataset_id = exercise.create_eval_dataset(NAME, FIRST, "v1")

    count = exercise.add_production_failures(dataset_id, "v3")

    rows = _rows(dataset_id)
    from_traces = [r for r in rows if str(r.get("source_type")) in ("TRACE", "SourceType.TRACE")]
    expected = sorted(q["question"] for q in production_traces["questions"])
    assert _questions_of(from_traces) == expected, (
        "expected exactly the production traces of the active experiment rated thumbs_down "
        f"to join the dataset as records from traces (source TRACE): {expected}; found "
        f"{_questions_of(from_traces)} from traces, among {_questions_of(rows)}. Skip the "
        "thumbs_up trace, the dev trace and the traces of other experiments."
    )
    sources = sorted(str(r.get("source_id")) for r in from_traces)
    assert sources == sorted(production_traces["bad"]), (
        f"expected each record from a trace to name its trace as source id "
        f"{sorted(production_traces['bad'])}; found {sources}"
    )
    answers = {_question(r): r["expectations"] for r in from_traces}
    for item in production_traces["questions"]:
        assert answers[item["question"]] == {"expected_response": item["answer"]}, (
            f"expected the record of {item['question']!r} to carry the reviewer's corrected "
            f"answer as expected_response; found {answers[item['question']]}. Merging the "
            "traces themselves keeps their expectations."
        )
    assert count == len(FIRST) + len(expected), (
        f"expected add_production_failures to return the number of records now in the "
        f"dataset, {len(FIRST) + len(expected)}; got {shown(count)}"
    )
    tags = _dataset(dataset_id).tags or {}
    assert tags.get("version") == "v3", f"expected the dataset tag version='v3'; found {tags}"
