"""Exercise 1: an evaluation dataset that grows, stored in MLflow.

Every evaluation starts with data: questions your app should answer, and what a
good answer is. MLflow 3 keeps these as an *evaluation dataset* in the tracking
store: records of ``inputs`` and ``expectations`` (plus tags), with an id, a
name and tags of their own. A dataset is not written once: you add records as
you learn how the app fails, including real production requests that users
rated down, so the next evaluation tests exactly those.

Build:

1. ``seed_records(questions)``: the first records, normal questions plus edge
   cases and known failure modes of your own, each tagged with its category.
2. ``create_eval_dataset(name, records, version)``: create the dataset, tag its
   version, fill it.
3. ``add_records(dataset_id, records, version)``: grow the same dataset.
4. ``add_production_failures(dataset_id, version)``: turn the production traces
   users rated down into records, with the corrected answers reviewers logged.

MLflow APIs practised: ``mlflow.genai.datasets.create_dataset``,
``get_dataset``, ``set_dataset_tags``, ``EvaluationDataset.merge_records``
(with a list of dicts, or with the traces that ``mlflow.search_traces``
returns), ``mlflow.search_traces(filter_string=...)`` on tags and feedback.

Done looks like this: in the UI, the experiment's **Datasets** tab shows one
dataset ``qa-eval`` with the tag ``version``, its records (some from traces),
and it grows every time you add to it.

Run the checks: ``uv run pytest exercises/module_06/test_ex01_eval_dataset.py``
"""

from __future__ import annotations

import mlflow  # noqa: F401 - you will need these
from mlflow.genai.datasets import create_dataset, get_dataset, set_dataset_tags  # noqa: F401

CATEGORIES = ("normal", "edge_case", "failure_mode")
VERSION_TAG = "version"


def seed_records(questions: list[dict]) -> list[dict]:
    """The first records of the evaluation dataset.

    - one ``"normal"`` record per item of ``questions`` (each ``{"question", "answer"}``):
      ``{"inputs": {"question": ...}, "expectations": {"expected_response": answer},
      "tags": {"category": "normal"}}``;
    - then records of your own: at least one ``"edge_case"`` (an empty, ambiguous or
      off-topic question...) and at least one ``"failure_mode"`` (a way the app is known
      to fail: a prompt injection, a question about an API that no longer exists...).
      Each has a ``"question"`` in its inputs, non-empty expectations (an
      ``expected_response``, ``expected_facts`` or ``guidelines``) and its category in
      ``tags["category"]``.
    """
    # TODO: build one normal record per question, then append your own edge cases and
    #       failure modes (different questions: records with the same inputs overwrite).
    raise NotImplementedError("seed_records: not written yet (see the TODO above)")


def create_eval_dataset(name: str, records: list[dict], version: str) -> str:
    """Create the evaluation dataset ``name`` in the active experiment and fill it.

    The dataset gets the tag ``VERSION_TAG`` = ``version`` (e.g. ``"v1"``) and every
    record of ``records``. Returns the new dataset's ``dataset_id``.
    """
    # TODO: create the dataset with its version tag, merge the records into it, and
    #       return its id.
    raise NotImplementedError("create_eval_dataset: not written yet (see the TODO above)")


def add_records(dataset_id: str, records: list[dict], version: str) -> int:
    """Add ``records`` to the existing dataset ``dataset_id`` and tag it ``version``.

    The dataset grows in place (it is the same dataset, with the same id); a record
    whose inputs are already in the dataset replaces the old one. Returns how many
    records the dataset holds now.
    """
    # TODO: get the dataset by id, merge the records, update the version tag, and count
    #       the records it holds now.
    raise NotImplementedError("add_records: not written yet (see the TODO above)")


def add_production_failures(dataset_id: str, version: str) -> int:
    """Add to the dataset the production traces that users rated down, and tag it ``version``.

    They are the traces of the active experiment with the tag ``env`` = ``production``
    and a feedback ``user_rating`` = ``thumbs_down``; their inputs become the records'
    inputs, and the corrected answer a reviewer logged on them (an expectation) their
    expectations. Merge the traces themselves, so that each record keeps its source
    (``TRACE``, with the trace id). Returns how many records the dataset holds now.
    """
    # TODO: search the traces with a filter on the tag and the feedback, merge them into
    #       the dataset, update the version tag, and count the records.
    raise NotImplementedError("add_production_failures: not written yet (see the TODO above)")
