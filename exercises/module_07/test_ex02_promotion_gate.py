"""Checks for ex02_promotion_gate: evaluate the challenger, promote on evidence, roll back."""

import mlflow
import pytest

from fixtures.data import load_eval_set
from fixtures.production import (
    good_answers,
    logged_model_id,
    partial_answers,
    register_canned_agent,
)
from fixtures.registry import aliases_of, stages_of
from fixtures.runs import all_runs, model_ids_of

pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")

MODEL = "support-agent"
DATA = load_eval_set()[:4]  # the Module 6 evaluation set (4 rows keep the checks quick)


def tags_of(version: str) -> dict[str, str]:
    return mlflow.MlflowClient().get_model_version(MODEL, version).tags


def register(answers, alias=None):
    return register_canned_agent(MODEL, answers, alias=alias)


def test_word_recall_is_the_share_of_expected_words_found_in_the_answer(exercise):
    expected = {"expected_response": "Aliases point at model versions."}
    cases = [
        ("Aliases point at model versions.", 1.0),
        ("ALIASES, point... at: model; versions", 1.0),
        ("Aliases point elsewhere", 0.4),
        ("aliases aliases aliases aliases aliases", 0.2),
        ("Something else entirely", 0.0),
    ]
    for answer, wanted in cases:
        got = exercise.word_recall(outputs=answer, expectations=expected)
        assert got == pytest.approx(wanted), (
            f"expected word_recall of {answer!r} against 'Aliases point at model versions.' "
            f"to be {wanted} (distinct expected words found / distinct expected words); "
            f"got {got!r}"
        )


def test_evaluate_alias_records_an_evaluation_run_linked_to_the_aliased_version(exercise):
    champion = register(good_answers(), alias="champion")
    challenger = register(partial_answers(), alias="challenger")

    score = exercise.evaluate_alias(MODEL, "challenger", DATA)

    runs = all_runs()
    assert len(runs) == 1, (
        f"expected one evaluation run (mlflow.genai.evaluate makes it); found {len(runs)} runs"
    )
    metric = runs[0].data.metrics.get("word_recall/mean")
    assert metric is not None and score == pytest.approx(metric), (
        f"expected evaluate_alias to return the run's word_recall/mean metric; it returned "
        f"{score!r}, the run's metrics are {runs[0].data.metrics}. Use the scorer word_recall."
    )
    assert 0.0 < score < 0.8, (
        f"expected the challenger (answers cut short) to score between 0 and 0.8; got {score}. "
        "Is the champion being evaluated instead?"
    )
    linked = model_ids_of(runs[0])
    assert logged_model_id(challenger) in linked and logged_model_id(champion) not in linked, (
        f"expected the evaluation run to be linked to the challenger's LoggedModel "
        f"({logged_model_id(challenger)}) only; it is linked to {sorted(linked) or 'none'}. "
        "Pass model_id= to mlflow.genai.evaluate."
    )


def test_a_challenger_that_meets_the_bar_and_beats_the_champion_is_promoted(exercise):
    register(partial_answers(), alias="champion")
    register(good_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA)

    assert decision.promoted is True, f"expected the better challenger to be promoted: {decision}"
    assert aliases_of(MODEL) == {"champion": "2"}, (
        f"expected 'champion' -> 2 and the challenger alias gone after promotion; found "
        f"{aliases_of(MODEL)}"
    )
    tags = tags_of("2")
    assert tags.get("previous_champion") == "1" and tags.get("gate_decision") == "promoted", (
        f"expected version 2 to be tagged previous_champion=1 and gate_decision=promoted; "
        f"found tags {tags}"
    )
    assert decision.challenger_score == pytest.approx(1.0) and decision.champion_score < 0.8, (
        f"expected the decision to carry both scores (challenger 1.0, champion lower); "
        f"got {decision}"
    )
    assert stages_of(MODEL) == {}, f"expected no registry stages; found {stages_of(MODEL)}"


def test_a_challenger_below_the_bar_is_rejected_even_without_a_champion(exercise):
    register(partial_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA)

    assert decision.promoted is False, (
        f"expected a challenger scoring below the bar (QUALITY_BAR, 0.6) to be rejected; "
        f"got {decision}"
    )
    assert aliases_of(MODEL) == {"challenger": "1"}, (
        f"expected no champion and the challenger alias kept after a rejection; found "
        f"{aliases_of(MODEL)}"
    )
    assert tags_of("1").get("gate_decision") == "rejected", (
        f"expected version 1 to be tagged gate_decision=rejected; found tags {tags_of('1')}"
    )
    assert decision.champion_version is None and decision.champion_score is None, (
        f"expected no champion version or score in the decision; got {decision}"
    )


def test_the_bar_is_the_one_given_to_the_gate(exercise):
    register(partial_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA, bar=0.3)

    assert decision.promoted is True and aliases_of(MODEL) == {"champion": "1"}, (
        f"expected a challenger scoring about 0.43 to pass the bar 0.3 and become champion "
        f"(there is no champion to beat); got {decision}, aliases {aliases_of(MODEL)}"
    )
    assert "previous_champion" not in tags_of("1"), (
        f"expected no previous_champion tag when there was no champion; found {tags_of('1')}"
    )


def test_a_challenger_that_only_ties_the_champion_is_rejected(exercise):
    register(good_answers(), alias="champion")
    register(good_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA)

    assert decision.promoted is False, (
        f"expected a challenger that scores the same as the champion not to be promoted (it "
        f"must beat it); got {decision}"
    )
    assert aliases_of(MODEL) == {"champion": "1", "challenger": "2"}, (
        f"expected the aliases to stay as they were; found {aliases_of(MODEL)}"
    )
    assert tags_of("2").get("gate_decision") == "rejected", (
        f"expected version 2 to be tagged gate_decision=rejected; found tags {tags_of('2')}"
    )


def test_the_gate_refuses_a_model_without_a_challenger(exercise):
    register(good_answers(), alias="champion")

    with pytest.raises(ValueError):
        exercise.promotion_gate(MODEL, DATA)


def test_rollback_moves_champion_back_and_records_why(exercise):
    register(good_answers())
    register(partial_answers(), alias="champion")
    client = mlflow.MlflowClient()
    # As if the gate had promoted version 2 over version 1.
    client.set_model_version_tag(MODEL, "2", "previous_champion", "1")

    try:
        restored = exercise.rollback(MODEL, "answers got worse after the release")
    except ValueError as err:
        raise AssertionError(
            "expected rollback to find the previous champion in the registry (version 2 is "
            f"tagged previous_champion=1); it raised ValueError: {err}. Read it from the "
            "champion's tags, not from something remembered in this process."
        ) from err

    assert str(restored) == "1", f"expected rollback to return '1'; got {restored!r}"
    assert aliases_of(MODEL).get("champion") == "1", (
        f"expected 'champion' -> 1 after the rollback; found {aliases_of(MODEL)}. Read the "
        "previous champion from the registry (the previous_champion tag), not from memory."
    )
    assert tags_of("2").get("rollback_reason") == "answers got worse after the release", (
        f"expected version 2 to be tagged rollback_reason with the reason; found {tags_of('2')}"
    )


def test_rollback_without_a_previous_champion_raises_and_changes_nothing(exercise):
    register(good_answers(), alias="champion")

    with pytest.raises(ValueError):
        exercise.rollback(MODEL, "no reason")

    assert aliases_of(MODEL) == {"champion": "1"}, (
        f"expected the champion to stay on version 1; found {aliases_of(MODEL)}"
    )


def test_a_promotion_can_be_rolled_back(exercise):
    register(partial_answers(), alias="champion")
    register(good_answers(), alias="challenger")

    exercise.promotion_gate(MODEL, DATA)
    restored = exercise.rollback(MODEL, "latency doubled")

    assert str(restored) == "1" and aliases_of(MODEL).get("champion") == "1", (
        f"expected the rollback to bring back version 1 as champion; rollback returned "
        f"{restored!r}, aliases are {aliases_of(MODEL)}"
    )
