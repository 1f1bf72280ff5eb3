"""Checks for ex02_promotion_gate: evaluate the challenger, promote on evidence, roll back."""

import mlflow
import pytest
from mlflow.entities import Feedback

from fixtures.data import load_eval_set
from fixtures.messages import shown
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


def field(decision, name):
    """A field of the GateDecision the gate returned (None when it has no such field)."""
    return getattr(decision, name, None)


def value_of(result):
    """A scorer may return a plain value or a Feedback (MLflow accepts both): its value."""
    return result.value if isinstance(result, Feedback) else result


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
        got = value_of(exercise.word_recall(outputs=answer, expectations=expected))
        assert isinstance(got, int | float) and got == pytest.approx(wanted), (
            f"expected word_recall of {answer!r} against 'Aliases point at model versions.' "
            f"to be {wanted} (distinct expected words found / distinct expected words); "
            f"got {shown(got)}"
        )


def test_word_recall_is_one_when_the_expected_response_has_no_words(exercise):
    got = value_of(
        exercise.word_recall(outputs="Any answer", expectations={"expected_response": "..."})
    )

    assert isinstance(got, int | float) and got == pytest.approx(1.0), (
        f"expected word_recall to be 1.0 when the expected response ('...') has no words "
        f"(nothing is missing); got {shown(got)}"
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

    assert field(decision, "promoted") is True, (
        f"expected the better challenger to be promoted: {shown(decision)}"
    )
    assert aliases_of(MODEL) == {"champion": "2"}, (
        f"expected 'champion' -> 2 and the challenger alias gone after promotion; found "
        f"{aliases_of(MODEL)}"
    )
    tags = tags_of("2")
    assert tags.get("previous_champion") == "1" and tags.get("gate_decision") == "promoted", (
        f"expected version 2 to be tagged previous_champion=1 and gate_decision=promoted; "
        f"found tags {tags}"
    )
    scores = (field(decision, "challenger_score"), field(decision, "champion_score"))
    assert scores[0] == pytest.approx(1.0) and isinstance(scores[1], float) and scores[1] < 0.8, (
        f"expected the decision to carry both scores (challenger 1.0, champion lower); "
        f"got {shown(decision)}"
    )
    versions = (
        str(field(decision, "challenger_version")),
        str(field(decision, "champion_version")),
    )
    assert versions == ("2", "1"), (
        f"expected the decision to name challenger version '2' and champion version '1'; "
        f"got {shown(decision)}"
    )
    assert stages_of(MODEL) == {}, f"expected no registry stages; found {stages_of(MODEL)}"


def test_a_challenger_below_the_bar_is_rejected_even_without_a_champion(exercise):
    register(partial_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA)

    assert field(decision, "promoted") is False, (
        f"expected a challenger scoring below the bar (QUALITY_BAR, 0.6) to be rejected; "
        f"got {shown(decision)}"
    )
    assert aliases_of(MODEL) == {"challenger": "1"}, (
        f"expected no champion and the challenger alias kept after a rejection; found "
        f"{aliases_of(MODEL)}"
    )
    assert tags_of("1").get("gate_decision") == "rejected", (
        f"expected version 1 to be tagged gate_decision=rejected; found tags {tags_of('1')}"
    )
    assert (
        field(decision, "champion_version") is None and field(decision, "champion_score") is None
    ), f"expected no champion version or score in the decision; got {shown(decision)}"


def test_the_bar_is_the_one_given_to_the_gate(exercise):
    register(partial_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA, bar=0.3)

    assert field(decision, "promoted") is True and aliases_of(MODEL) == {"champion": "1"}, (
        f"expected a challenger scoring about 0.43 to pass the bar 0.3 and become champion "
        f"(there is no champion to beat); got {shown(decision)}, aliases {aliases_of(MODEL)}"
    )
    assert "previous_champion" not in tags_of("1"), (
        f"expected no previous_champion tag when there was no champion; found {tags_of('1')}"
    )


def test_a_challenger_exactly_at_the_bar_is_promoted(exercise):
    register(good_answers(), alias="challenger")  # scores 1.0

    decision = exercise.promotion_gate(MODEL, DATA, bar=1.0)

    assert field(decision, "promoted") is True and aliases_of(MODEL) == {"champion": "1"}, (
        f"expected a challenger scoring 1.0 to meet the bar 1.0 (at least the bar) and become "
        f"champion; got {shown(decision)}, aliases {aliases_of(MODEL)}"
    )


def test_a_challenger_that_only_ties_the_champion_is_rejected(exercise):
    register(good_answers(), alias="champion")
    register(good_answers(), alias="challenger")

    decision = exercise.promotion_gate(MODEL, DATA)

    assert field(decision, "promoted") is False, (
        f"expected a challenger that scores the same as the champion not to be promoted (it "
        f"must beat it); got {shown(decision)}"
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


def test_rollback_without_a_champion_raises_value_error(exercise):
    register(good_answers(), alias="challenger")

    try:
        exercise.rollback(MODEL, "no champion yet")
    except NotImplementedError:
        raise
    except ValueError:
        pass
    except Exception as err:  # noqa: BLE001 - the learner's code may raise anything
        raise AssertionError(
            f"expected rollback of a model without a champion to raise ValueError; it raised "
            f"{type(err).__name__}: {shown(str(err))}"
        ) from err
    else:
        raise AssertionError(
            "expected rollback of a model without a champion to raise ValueError; it returned"
        )
    assert aliases_of(MODEL) == {"challenger": "1"}, (
        f"expected the aliases to stay as they were; found {aliases_of(MODEL)}"
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
