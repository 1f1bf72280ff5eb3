"""Checks for ex08_llamaindex_prompt_sweep: a registered prompt as LlamaIndex's QA
template, traces linked to its version, and the best variable values recorded.

The model is LlamaIndex's OpenAI LLM answered by the kit's fake server with a model
that obeys "at most N words" and ignores the tone (``fixtures.word_limit``):
``max_words`` and ``top_k`` change the answers, ``tone`` never does (a tie). Each
traced answer costs about 0.1 s of CPU, so every test uses one or two kit questions,
chosen for what they show:

- QUESTION_LATE ("What happens when I register a prompt under a name that already
  exists?"): its answer ends at word 16 of the answer sentence, with any top_k;
- QUESTION_DEEP ("In an MLflow trace of an agent, which span type do tool executions
  get?"): found only with top_k=3; its answer ends at word 23 of a 49-word sentence.
"""

from __future__ import annotations

import json

import mlflow
import pytest
from mlflow import MlflowClient

from fixtures.data import load_questions
from fixtures.messages import shown
from fixtures.prompts import linked_prompts, prompt_versions
from fixtures.runs import all_runs
from fixtures.traces import root_span, search_traces
from fixtures.word_limit import word_limit_responder

PROMPT = "rag-qa"
SWEEP_RUN = "prompt-variable-sweep"
QUESTIONS = {q["question"]: q for q in load_questions()}
QUESTION_LATE = QUESTIONS["What happens when I register a prompt under a name that already exists?"]
QUESTION_DEEP = QUESTIONS["In an MLflow trace of an agent, which span type do tool executions get?"]
THREE_WORDS = """Answer in at most 3 words.
---------------------
{{context_str}}
---------------------
Query: {{query_str}}
Answer: """


@pytest.fixture(autouse=True)
def word_limit_model(fake_llm_env):
    """LlamaIndex's OpenAI LLM reaches the fake server, which obeys "at most N words"."""
    fake_llm_env.responder = word_limit_responder
    return fake_llm_env


def _register(exercise) -> str:
    version = exercise.register_qa_prompt()
    return f"prompts:/{PROMPT}/{version.version}"


def _traces_of_prompt(version: int) -> list:
    return search_traces(filter_string=f"prompt = '{PROMPT}/{version}'")


def _child_runs(parent_id: str) -> list:
    return [r for r in all_runs() if r.data.tags.get("mlflow.parentRunId") == parent_id]


# --- the prompt and one answer -------------------------------------------------------


def test_the_qa_template_is_registered_with_its_four_variables(exercise):
    version = exercise.register_qa_prompt()

    stored = prompt_versions(PROMPT)
    assert len(stored) == 1 and stored[0].template == exercise.QA_TEMPLATE, (
        f"expected one version of {PROMPT!r} holding QA_TEMPLATE; found "
        f"{[shown(v.template) for v in stored]}"
    )
    assert set(stored[0].variables) == {"context_str", "query_str", "tone", "max_words"}, (
        f"expected the variables context_str, query_str, tone and max_words; found "
        f"{sorted(stored[0].variables)}"
    )
    assert stored[0].tags.get("framework") == "llama_index" and version.version == 1, (
        f"expected the tag framework=llama_index on version 1; found {stored[0].tags}"
    )
    assert (stored[0].commit_message or "").strip(), (
        f"expected a commit message on the version; found {shown(stored[0].commit_message)}"
    )


def test_an_answer_follows_the_registered_template_it_is_given(exercise):
    uri = _register(exercise)
    terse = mlflow.genai.register_prompt(name=PROMPT, template=THREE_WORDS)

    free = exercise.answer(QUESTION_LATE["question"], uri, {"max_words": 40, "tone": "formal"}, 3)
    short = exercise.answer(QUESTION_LATE["question"], f"prompts:/{PROMPT}/{terse.version}", {}, 3)

    assert QUESTION_LATE["answer"] in free, (
        f"expected the answer with max_words=40 to contain {QUESTION_LATE['answer']!r}; got "
        f"{free!r}. Use the registered prompt as the engine's text_qa_template, in single "
        "braces (to_single_brace_format), with the variables filled in."
    )
    assert len(short.split()) <= 3, (
        f"expected an answer of at most 3 words with version {terse.version} of {PROMPT!r} "
        f"('Answer in at most 3 words.'); got {short!r}: load the prompt that prompt_uri names"
    )


def test_each_answer_is_one_trace_linked_to_the_prompt_version_it_loaded(exercise):
    uri = _register(exercise)
    other = mlflow.genai.register_prompt(name=PROMPT, template=THREE_WORDS)
    variables = {"max_words": 25, "tone": "formal"}

    for question in (QUESTION_LATE, QUESTION_DEEP):
        exercise.answer(question["question"], uri, variables, 3)
    exercise.answer(QUESTION_LATE["question"], f"prompts:/{PROMPT}/{other.version}", {}, 3)

    traces = search_traces()
    found = {v: len(_traces_of_prompt(v)) for v in (1, other.version)}
    assert len(traces) == 3 and found == {1: 2, other.version: 1}, (
        f"expected 3 traces (one per answer), 2 linked to {PROMPT}/1 and 1 to "
        f"{PROMPT}/{other.version}; found {len(traces)} traces, linked per version: {found}. "
        "Load the prompt inside each answer's trace, every time: a prompt loaded once, or "
        "before the trace opens, is linked to no trace (or to the first one only)."
    )


def test_the_answer_trace_records_the_question_variables_and_top_k(exercise):
    uri = _register(exercise)
    variables = {"max_words": 25, "tone": "formal"}

    text = exercise.answer(QUESTION_LATE["question"], uri, variables, 3)

    root = root_span(search_traces()[0])
    expected = {"question": QUESTION_LATE["question"], "variables": variables, "top_k": 3}
    assert (root.name, root.span_type) == ("answer", "CHAIN") and root.inputs == expected, (
        f"expected a CHAIN root span 'answer' with inputs {expected}; found "
        f"{root.name!r} ({root.span_type}) with inputs {shown(root.inputs)}"
    )
    assert root.outputs == text, (
        f"expected the answer as the root span's outputs; found {shown(root.outputs)}"
    )


# --- one combination -----------------------------------------------------------------


def test_a_combination_is_one_run_with_its_params_and_scores(exercise):
    uri = _register(exercise)
    questions = [QUESTION_LATE, QUESTION_DEEP]

    scores = exercise.evaluate_combination(uri, {"max_words": 25, "tone": "formal"}, 3, questions)

    runs = all_runs()
    assert len(runs) == 1, f"expected one run for one combination; found {len(runs)}"
    run = runs[0]
    params = {k: v for k, v in run.data.params.items()}
    assert params == {"max_words": "25", "tone": "formal", "top_k": "3", "prompt_uri": uri}, (
        f"expected the params max_words, tone, top_k and prompt_uri; found {params}"
    )
    answers = [root_span(t).outputs for t in search_traces()]
    assert len(answers) == len(questions), (
        f"expected one trace per question ({len(questions)}); found {len(answers)}"
    )
    expected = {
        "accuracy": sum(
            q["answer"].lower() in str(a).lower() for q, a in zip(questions, answers, strict=False)
        )
        / 2,
        "mean_answer_words": sum(len(str(a).split()) for a in answers) / 2,
    }
    found = {k: run.data.metrics.get(k) for k in expected}
    assert found == pytest.approx(expected) and scores == pytest.approx(expected), (
        f"from the two answers in the traces {shown(answers)}, expected the metrics and the "
        f"returned scores {expected}; the run has {found}, the function returned {shown(scores)}"
    )
    assert linked_prompts(run) == [f"{PROMPT}/1"], (
        f"expected the run linked to {PROMPT}/1 (loaded while it was active); found "
        f"{linked_prompts(run)}"
    )


# --- the sweep -----------------------------------------------------------------------


def test_the_sweep_records_the_most_accurate_combination_on_its_run(exercise):
    uri = _register(exercise)
    variables = {"max_words": [12, 25], "tone": ["formal"]}

    best = exercise.sweep(uri, variables, [3, 1], [QUESTION_LATE, QUESTION_DEEP])

    # (12, 3) 0.0, (12, 1) 0.0, (25, 3) 1.0, (25, 1) 0.5
    assert (best.get("variables"), best.get("top_k")) == ({"max_words": 25, "tone": "formal"}, 3), (
        f"expected max_words=25, top_k=3 (accuracy 1.0; 12 words cut both answers, top_k=1 "
        f"misses the second question); got {shown(best)}"
    )
    parent = MlflowClient().get_run(best["run_id"])
    tags = {k: v for k, v in parent.data.tags.items() if k.startswith("best.")}
    assert parent.info.run_name == SWEEP_RUN and tags == {
        "best.max_words": "25",
        "best.tone": "formal",
        "best.top_k": "3",
    }, f"expected the run {SWEEP_RUN!r} tagged best.max_words/tone/top_k; found {tags}"
    assert parent.data.metrics.get("best_accuracy") == pytest.approx(1.0), (
        f"expected best_accuracy 1.0 on the sweep run; found {parent.data.metrics}"
    )


def test_equal_accuracy_goes_to_the_shorter_answers(exercise):
    uri = _register(exercise)

    best = exercise.sweep(uri, {"max_words": [40, 25], "tone": ["formal"]}, [3], [QUESTION_DEEP])

    assert best.get("variables") == {"max_words": 25, "tone": "formal"}, (
        "with max_words 40 and 25 the answer is right both times (accuracy 1.0), in 40 and "
        f"25 words: expected the shorter, max_words=25; got {shown(best.get('variables'))}"
    )


def test_a_full_tie_goes_to_the_combination_tried_first(exercise):
    uri = _register(exercise)

    best = exercise.sweep(
        uri, {"max_words": [25], "tone": ["formal", "friendly"]}, [3], [QUESTION_LATE]
    )

    assert best.get("variables") == {"max_words": 25, "tone": "formal"}, (
        "the tone changes no answer, so both combinations tie on accuracy and length: "
        f"expected the one tried first, tone='formal'; got {shown(best.get('variables'))}"
    )


def test_the_best_values_are_recorded_on_the_prompt_version(exercise):
    uri = _register(exercise)

    exercise.sweep(uri, {"max_words": [40, 25], "tone": ["formal"]}, [3], [QUESTION_DEEP])

    tags = prompt_versions(PROMPT)[0].tags
    found = {k: tags.get(k) for k in ("best_variables", "best_top_k", "best_accuracy")}
    assert (
        found["best_variables"]
        and json.loads(found["best_variables"]) == {"max_words": 25, "tone": "formal"}
        and found["best_top_k"] == "3"
        and float(found["best_accuracy"] or -1) == 1.0
    ), (
        "expected the prompt version tagged best_variables (JSON), best_top_k and "
        f"best_accuracy; found {found}"
    )


def test_each_combination_is_a_child_run_of_the_sweep_linked_to_the_prompt(exercise):
    uri = _register(exercise)

    best = exercise.sweep(uri, {"max_words": [40, 25], "tone": ["formal"]}, [3], [QUESTION_DEEP])

    children = _child_runs(best["run_id"])
    tried = sorted(r.data.params.get("max_words", "?") for r in children)
    assert tried == ["25", "40"], (
        f"expected one child run of the sweep run per combination (max_words 25 and 40); "
        f"found child runs with max_words {tried} among {len(all_runs())} runs"
    )
    unlinked = [r.info.run_id for r in children if linked_prompts(r) != [f"{PROMPT}/1"]]
    assert not unlinked, f"expected every child run linked to {PROMPT}/1; not {unlinked}"
    assert mlflow.active_run() is None, "expected no run left active after the sweep"
