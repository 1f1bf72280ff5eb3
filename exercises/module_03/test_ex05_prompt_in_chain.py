"""Checks for ex05_prompt_in_chain: a LangChain chain on a registered prompt, with lineage."""

import mlflow
import pytest
from mlflow import MlflowClient
from pydantic import PrivateAttr

from fixtures.fake_chat import SentimentChatModel
from fixtures.messages import shown
from fixtures.prompts import linked_prompts
from fixtures.runs import all_runs
from fixtures.sentiment import generate_reviews
from fixtures.traces import search_traces, span_tree, trace_of, traces_of

NAME = "sentiment"
V1 = "Classify this review as positive, negative or neutral.\nReview: {{text}}"
V2 = (
    "You label product reviews. Reply with one word: positive, negative or neutral.\n"
    "Review: {{text}}"
)
REVIEW = "The kettle is excellent and I love it."


class RecordingModel(SentimentChatModel):
    """The kit's sentiment chat model, keeping the messages of every call. Like many real
    models it capitalises its answer and adds a new line: " Positive\n"."""

    _seen: list = PrivateAttr(default_factory=list)

    def _reply(self, messages):
        self._seen.append([(m.type, m.text) for m in messages])
        answer = super()._reply(messages)
        return answer.model_copy(update={"content": f" {answer.text.capitalize()}\n"})

    @property
    def seen(self) -> list[list[tuple[str, str]]]:
        return self._seen


@pytest.fixture
def model() -> RecordingModel:
    return RecordingModel()


@pytest.fixture
def versions():
    """Versions 1 and 2 of the sentiment prompt; production points at version 2."""
    mlflow.genai.register_prompt(name=NAME, template=V1, commit_message="First")
    mlflow.genai.register_prompt(name=NAME, template=V2, commit_message="One word")
    mlflow.genai.set_prompt_alias(NAME, "production", 2)


def _filled(template: str, review: str = REVIEW) -> str:
    return template.replace("{{text}}", review)


def _last_call(model: RecordingModel) -> str:
    return repr(model.seen[-1]) if model.seen else "the model was never called"


def test_build_chain_sends_the_registered_wording_and_the_review_to_the_model(
    exercise, versions, model
):
    prompt = MlflowClient().get_prompt_version(NAME, 2)

    answer = exercise.build_chain(prompt, model).invoke({"text": REVIEW})

    assert model.seen and model.seen[-1] == [("human", _filled(V2))], (
        "expected the model to receive one human message: version 2's template with the "
        f"review filled in, {_filled(V2)!r}; it received {_last_call(model)}"
    )
    assert isinstance(answer, str) and answer.strip().lower() == "positive", (
        f"expected the chain to return the model's answer as a string, ' Positive\\n'; "
        f"got {shown(answer)}. End the chain with StrOutputParser()."
    )


def test_build_chain_keeps_the_messages_of_a_chat_prompt(exercise, model):
    chat = [
        {"role": "system", "content": "Answer positive, negative or neutral."},
        {"role": "user", "content": "Review: {{text}}"},
    ]
    prompt = mlflow.genai.register_prompt(name="sentiment-chat", template=chat)

    exercise.build_chain(prompt, model).invoke({"text": REVIEW})

    expected = [("system", chat[0]["content"]), ("human", f"Review: {REVIEW}")]
    assert model.seen and model.seen[-1] == expected, (
        f"expected the model to receive the chat prompt's two messages, {expected}; it "
        f"received {_last_call(model)}"
    )


def test_classify_returns_the_label_of_each_review(exercise, versions, model):
    reviews = generate_reviews(3)

    labels = [exercise.classify(r["text"], model) for r in reviews]

    expected = [r["label"] for r in reviews]
    assert labels == expected, (
        f"expected the labels {expected}, stripped and lower-cased (the model answers "
        f"' Positive\\n'); got {shown(labels)}"
    )


def test_classify_records_one_trace_linked_to_the_production_version(exercise, versions, model):
    _, traces = traces_of(exercise.classify, REVIEW, model)

    assert len(traces) == 1, (
        f"expected classify to record one trace per review; it recorded {len(traces)}:\n"
        + "\n".join(span_tree(t) for t in traces)
    )
    trace = traces[0]
    prompts = linked_prompts(trace)
    assert prompts == [f"{NAME}/2"], (
        f"expected the trace to be linked to {NAME}/2, the version 'production' points at; "
        f"linked prompts: {prompts or 'none'}. Load the prompt with mlflow.genai.load_prompt "
        "inside the traced function: a prompt written in the code, or loaded before the "
        f"trace starts, leaves no link. The trace:\n{span_tree(trace)}"
    )


def test_classify_follows_the_production_alias_when_it_moves(exercise, versions, model):
    exercise.classify(REVIEW, model)
    mlflow.genai.set_prompt_alias(NAME, "production", 1)  # a rollback

    _, trace = trace_of(exercise.classify, REVIEW, model)

    assert model.seen and model.seen[-1] == [("human", _filled(V1))], (
        "expected the call after production moved to version 1 to send version 1's wording; "
        f"the model received {_last_call(model)}. Load the prompt on every call, by alias: "
        "do not keep it from an earlier call."
    )
    prompts = linked_prompts(trace)
    assert prompts == [f"{NAME}/1"], (
        f"expected that trace to be linked to {NAME}/1; linked prompts: {prompts or 'none'}"
    )


def test_classify_uses_the_prompt_uri_it_is_given(exercise, versions, model):
    _, trace = trace_of(exercise.classify, REVIEW, model, f"prompts:/{NAME}/1")

    assert model.seen and model.seen[-1] == [("human", _filled(V1))], (
        f"expected classify(review, llm, 'prompts:/{NAME}/1') to send version 1's wording "
        f"although production points at version 2; the model received {_last_call(model)}"
    )
    prompts = linked_prompts(trace)
    assert prompts == [f"{NAME}/1"], (
        f"expected that trace to be linked to {NAME}/1; linked prompts: {prompts or 'none'}"
    )


def _batch_run(run_id):
    runs = {run.info.run_id: run for run in all_runs()}
    assert isinstance(run_id, str) and run_id in runs, (
        f"expected classify_batch to return the id of its run; got {shown(run_id)} "
        f"(runs in the store: {sorted(runs) or 'none'})"
    )
    return runs[run_id]


def test_classify_batch_records_a_run_linked_to_the_prompt_version(exercise, versions, model):
    reviews = [r["text"] for r in generate_reviews(3)]

    run_id = exercise.classify_batch(reviews, model)

    active = mlflow.active_run()
    assert active is None, (
        f"expected classify_batch to end its run; the run {active.info.run_id} is still active. "
        "Use `with mlflow.start_run():`."
    )
    run = _batch_run(run_id)
    assert run.data.metrics.get("reviews_classified") == 3, (
        f"expected the metric reviews_classified=3 on the run; found {run.data.metrics}"
    )
    prompts = linked_prompts(run)
    assert prompts == [f"{NAME}/2"], (
        f"expected the run to be linked to {NAME}/2; linked prompts: {prompts or 'none'}. "
        "load_prompt links the prompt to the run that is active when it loads."
    )
    in_run = search_traces(run_id=run_id)
    assert len(in_run) == 3, (
        f"expected the run to hold 3 traces, one per review; it holds {len(in_run)} "
        f"(of {len(search_traces())} traces in all). Classify inside the run."
    )


def test_classify_batch_uses_the_prompt_uri_it_is_given(exercise, versions, model):
    reviews = [r["text"] for r in generate_reviews(2)]

    run = _batch_run(exercise.classify_batch(reviews, model, f"prompts:/{NAME}/1"))

    prompts = linked_prompts(run)
    assert prompts == [f"{NAME}/1"], (
        f"expected classify_batch(reviews, llm, 'prompts:/{NAME}/1') to classify with version 1 "
        f"and its run to be linked to {NAME}/1; linked prompts: {prompts or 'none'}"
    )
