"""Checks for ex04_search_prompts: prompts found by name pattern and tags, their history."""

import mlflow
from mlflow import MlflowClient

from fixtures.messages import shown
from fixtures.snapshots import store_snapshot

# name -> [(template, commit message, tags)], registered in this order
CATALOG = {
    "sales-email": [
        ("Write a sales email about {{product}}.", "First draft", {"team": "sales"}),
        ("Write a short sales email about {{product}}.", "Shorter", {"task": "generation"}),
    ],
    "support-triage": [
        (
            "Route this ticket: {{ticket}}",
            "Route tickets",
            {"team": "support", "task": "classification"},
        ),
        ("Route this ticket to billing or tech: {{ticket}}", "Name the queues", None),
        ("Route to billing, tech or sales: {{ticket}}", "Add the sales queue", None),
    ],
    "summary": [
        ("Summarise: {{text}}", "Summaries", None),
        ("Summarise in one line: {{text}}", None, None),  # no commit message
    ],
    "support-reply": [
        ("Reply kindly to: {{ticket}}", "Kind replies", {"team": "support", "task": "generation"})
    ],
}


@store_snapshot
def catalog():
    """The prompts above, and a registered *model* whose name and tags look like a prompt's
    (built once, copied into each test's store)."""
    for name, versions in CATALOG.items():
        for template, message, tags in versions:
            mlflow.genai.register_prompt(
                name=name, template=template, commit_message=message, tags=tags
            )
    MlflowClient().create_registered_model("support-model", tags={"team": "support"})


def _items(found) -> list:
    try:
        return list(found or [])
    except TypeError:
        return [found]


def _shown(found) -> list:
    return [(getattr(v, "name", shown(v)), getattr(v, "version", "?")) for v in _items(found)]


def _names(found) -> list[str]:
    return [getattr(v, "name", shown(v)) for v in _items(found)]


def test_find_prompts_by_name_pattern_returns_the_latest_version_of_each_match_by_name(
    exercise, catalog
):
    found = exercise.find_prompts("support-%")

    assert _names(found) == ["support-reply", "support-triage"], (
        "expected find_prompts('support-%') to return the prompts support-reply and "
        f"support-triage, in that order, and not the model support-model; found {_shown(found)}"
    )
    assert _shown(found) == [("support-reply", 1), ("support-triage", 3)], (
        "expected the latest version of each prompt (support-reply version 1, support-triage "
        f"version 3); found {_shown(found)}. search_prompts gives names and tags, not versions."
    )
    latest = CATALOG["support-triage"][-1][0]
    template = getattr(found[1], "template", None)
    assert template == latest, (
        f"expected support-triage's latest template {latest!r}; found {shown(template)}"
    )


def test_find_prompts_by_tags_keeps_the_prompts_with_every_tag(exercise, catalog):
    found = exercise.find_prompts(tags={"team": "support", "task": "generation"})

    assert _names(found) == ["support-reply"], (
        "expected find_prompts(tags={'team': 'support', 'task': 'generation'}) to return only "
        "support-reply: support-triage is tagged task=classification, sales-email "
        f"team=sales; found {_shown(found)}. Every tag must match (join them with AND)."
    )


def test_find_prompts_by_name_pattern_and_tag_together(exercise, catalog):
    found = exercise.find_prompts("s%", tags={"task": "generation"})

    assert _names(found) == ["sales-email", "support-reply"], (
        "expected find_prompts('s%', tags={'task': 'generation'}) to return sales-email and "
        "support-reply (a later version of sales-email added the tag task=generation); "
        f"found {_shown(found)}"
    )


def test_find_prompts_without_filters_lists_every_prompt_and_no_model(exercise, catalog):
    found = exercise.find_prompts()

    expected = sorted(CATALOG)
    assert _names(found) == expected, (
        f"expected every prompt, sorted by name, {expected}, and no registered model; "
        f"found {_shown(found)}. mlflow.genai.search_prompts sees prompts only."
    )


def test_find_prompts_with_no_match_returns_an_empty_list(exercise, catalog):
    found = exercise.find_prompts("nothing-%")

    assert found == [], f"expected [] when no prompt matches; found {shown(found)}"


def test_find_prompts_with_empty_tags_puts_no_condition_on_tags(exercise, catalog):
    found = exercise.find_prompts("support-%", tags={})

    assert _names(found) == ["support-reply", "support-triage"], (
        "expected find_prompts('support-%', tags={}) to find what find_prompts('support-%') "
        f"finds, support-reply and support-triage: {{}} is no condition; found {_shown(found)}"
    )


def test_history_lists_every_version_oldest_first_with_its_commit_message(exercise, catalog):
    found = exercise.history("support-triage")

    expected = [(1, "Route tickets"), (2, "Name the queues"), (3, "Add the sales queue")]
    assert _as_tuples(found) == expected, (
        f"expected the history of support-triage, oldest version first, {expected}; "
        f"found {shown(found)}"
    )


def test_history_gives_none_for_a_version_without_commit_message(exercise, catalog):
    found = exercise.history("summary")

    expected = [(1, "Summaries"), (2, None)]
    assert _as_tuples(found) == expected, (
        f"expected the history of summary, {expected}: its version 2 was registered without "
        f"a commit message, so None; found {shown(found)}"
    )


def _as_tuples(found) -> list:
    return [tuple(item) if isinstance(item, list | tuple) else item for item in _items(found)]
