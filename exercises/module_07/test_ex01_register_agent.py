"""Checks for ex01_register_agent: prompt, retriever and LLM settings versioned as one model."""

import re

import mlflow
import pytest
from mlflow.types.responses import ResponsesAgentRequest

from fixtures.messages import shown
from fixtures.production import answer_text, logged_model_id, request_for
from fixtures.prompts import linked_prompts
from fixtures.registry import aliases_of, model_versions, stages_of
from fixtures.traces import root_span, span_tree, trace_of

pytestmark = pytest.mark.usefixtures("mlflow_3_idioms_only")

MODEL = "support-agent"
DOCS = {
    "tracing.md": "Tracing records every step of a request as a span with inputs and outputs.",
    "registry.md": "The model registry keeps versions of a model and aliases such as champion.",
    "prompts.md": "Prompt templates live in the prompt registry; each version is immutable.",
    "serving.md": "A served agent answers requests over HTTP behind an API key.",
}
QUESTION = "How do registry aliases point at a model version?"
BEST_DOC = DOCS["registry.md"]  # shares the most words with QUESTION
TEMPLATES = {
    "1": "Answer from the context only.\nContext:\n{{context}}\nQuestion: {{question}}",
    "2": "Be brief and friendly.\nContext:\n{{context}}\nQuestion: {{question}}",
}


@pytest.fixture
def prompts(fake_llm_env):
    """Two versions of the prompt 'support'; the agent's LLM is the fake server."""
    return {
        version: mlflow.genai.register_prompt(name="support", template=template).uri
        for version, template in TEMPLATES.items()
    }


def config(exercise, prompt_uri, top_k=1, llm_model="gpt-4o-mini", temperature=0.0):
    return exercise.AgentConfig(
        prompt_uri=prompt_uri, top_k=top_k, llm_model=llm_model, temperature=temperature
    )


def sent_prompt(server) -> tuple[dict, str]:
    """The last chat request the fake LLM received, and all its message text."""
    assert server.chat_requests, "expected the agent to call the chat completions API; it did not"
    body = server.chat_requests[-1].body
    text = "\n".join(str(m.get("content")) for m in body.get("messages", []))
    return body, text


def documents_in(text: str) -> list[str]:
    return [name for name, doc in DOCS.items() if doc in text]


def test_retrieve_ranks_documents_by_distinct_shared_words_ties_in_document_order(exercise):
    documents = {
        "none": "Delta epsilon.",
        "repeats": "beta beta beta beta",  # one distinct shared word, four times
        "one": "Alpha and delta.",  # one shared word, after 'repeats': a tie
        "all": "ALPHA, Beta and gamma.",  # three shared words, in any case
        "two": "gamma then beta",
    }
    agent = exercise.SupportAgent(config(exercise, "prompts:/support/1", top_k=4), documents)

    found = agent.retrieve("Alpha beta gamma?")

    expected = [documents[n] for n in ("all", "two", "repeats", "one")]
    assert found == expected, (
        f"expected the top_k=4 texts by distinct shared words, best first, ties in the "
        f"documents' order:\n  expected {expected}\n  got      {shown(found, 600)}"
    )


def test_agent_params_are_the_four_settings_as_strings(exercise):
    params = exercise.agent_params(
        config(exercise, "prompts:/support/2", top_k=3, llm_model="gpt-4o", temperature=0.5)
    )

    expected = {
        "prompt_uri": "prompts:/support/2",
        "retriever_top_k": "3",
        "llm_model": "gpt-4o",
        "llm_temperature": "0.5",
    }
    assert params == expected, f"expected {expected} (every value a string); got {shown(params)}"


def test_the_prompt_gets_the_documents_best_first_joined_by_blank_lines(
    exercise, prompts, fake_llm_env
):
    agent = exercise.SupportAgent(config(exercise, prompts["1"], top_k=3), DOCS)
    request = ResponsesAgentRequest(input=[{"role": "user", "content": QUESTION}])

    agent.predict(request)

    body, _ = sent_prompt(fake_llm_env)
    context = "\n\n".join(DOCS[n] for n in ("registry.md", "prompts.md", "tracing.md"))
    filled = TEMPLATES["1"].replace("{{context}}", context).replace("{{question}}", QUESTION)
    expected = [{"role": "user", "content": filled}]
    assert body.get("messages") == expected, (
        f"expected one user message: prompt support/1 filled with the top_k=3 documents, best "
        f"first (ties in the documents' order), joined by blank lines:\n  expected {expected}\n"
        f"  got      {shown(body.get('messages'), 1200)}"
    )


def test_register_agent_adds_a_registry_version_backed_by_a_logged_model(exercise, prompts):
    version = exercise.register_agent(config(exercise, prompts["1"]), DOCS)

    versions = model_versions(MODEL)
    assert [str(v.version) for v in versions] == ["1"], (
        f"expected one version of the registered model '{MODEL}'; found versions "
        f"{[str(v.version) for v in versions]}. Pass registered_model_name= to log_model."
    )
    assert str(getattr(version, "version", None)) == "1", (
        f"expected the new ModelVersion back; got {shown(version)}"
    )
    source = versions[0].source
    assert source.startswith("models:/m-"), (
        f"expected the version's source to be the LoggedModel's URI (models:/<model_id>); "
        f"found {source!r}. Log the model with mlflow.pyfunc.log_model(name=..., "
        "registered_model_name=...) rather than registering a runs:/ path."
    )
    model = mlflow.get_logged_model(logged_model_id(versions[0]))
    assert str(model.status) == "READY", (
        f"expected the LoggedModel behind version 1 to be READY; it is {model.status}"
    )


def test_the_logged_model_records_prompt_retriever_and_llm_settings_as_params(exercise, prompts):
    chosen = config(exercise, prompts["2"], top_k=3, llm_model="gpt-4o", temperature=0.5)
    version = exercise.register_agent(chosen, DOCS)

    params = mlflow.get_logged_model(logged_model_id(version)).params
    expected = {
        "prompt_uri": prompts["2"],
        "retriever_top_k": "3",
        "llm_model": "gpt-4o",
        "llm_temperature": "0.5",
    }
    missing = {k: v for k, v in expected.items() if params.get(k) != v}
    assert not missing, (
        f"expected the LoggedModel's params to include {expected}; found {params}. "
        "Give log_model params=agent_params(config): params of the model, not only of a run."
    )


def test_the_logged_model_is_linked_to_its_prompt_version(exercise, prompts):
    version = exercise.register_agent(config(exercise, prompts["2"]), DOCS)

    linked = linked_prompts(mlflow.get_logged_model(logged_model_id(version)))
    assert linked == ["support/2"], (
        f"expected the LoggedModel to be linked to the prompt version support/2 only; "
        f"found {linked or 'no linked prompt'}. log_model(prompts=[...]) links them."
    )


def test_the_model_declares_exactly_the_given_pip_requirements(exercise, prompts):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS)

    path = mlflow.pyfunc.get_model_dependencies(f"models:/{MODEL}/1")
    with open(path, encoding="utf-8") as file:
        lines = [line.split("#")[0].strip() for line in file]
    names = sorted(re.split(r"[<>=!~;\[ ]", line)[0].lower() for line in lines if line)
    assert names == ["mlflow", "openai"], (
        f"expected the model's requirements to be PIP_REQUIREMENTS (mlflow, openai), given "
        f"to log_model as pip_requirements= (inferring them is slow); found {names}"
    )


def test_each_new_version_becomes_the_challenger_and_no_stage_is_used(exercise, prompts):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS)
    exercise.register_agent(config(exercise, prompts["2"]), DOCS)

    assert aliases_of(MODEL) == {"challenger": "2"}, (
        f"expected the alias 'challenger' on the newest version (2) and no other alias; "
        f"found aliases {aliases_of(MODEL)}"
    )
    assert stages_of(MODEL) == {}, (
        f"registry stages are deprecated in MLflow 3; found stages {stages_of(MODEL)}. Use aliases."
    )


def test_promote_points_champion_at_the_version_and_retires_its_challenger_alias(exercise, prompts):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS)
    exercise.promote(MODEL, "1")
    after_first = aliases_of(MODEL)
    exercise.register_agent(config(exercise, prompts["2"]), DOCS)
    after_second = aliases_of(MODEL)

    assert after_first == {"champion": "1"}, (
        f"expected promote(..., '1') to leave only 'champion' -> 1 (version 1 is no longer a "
        f"challenger); found {after_first}"
    )
    assert after_second == {"champion": "1", "challenger": "2"}, (
        f"expected a new version to become the challenger while the champion stays; "
        f"found {after_second}"
    )
    assert stages_of(MODEL) == {}, f"expected no registry stages; found {stages_of(MODEL)}"


def test_register_agent_registers_under_the_model_name_it_is_given(exercise, prompts):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS, model_name="billing-agent")

    got = ([str(v.version) for v in model_versions("billing-agent")], aliases_of("billing-agent"))
    assert got == (["1"], {"challenger": "1"}), (
        f"expected version 1 of 'billing-agent' as its challenger (model_name='billing-agent'); "
        f"found versions and aliases {got}; versions of '{MODEL}': "
        f"{[str(v.version) for v in model_versions(MODEL)]}"
    )


def test_promote_keeps_the_challenger_alias_of_another_version(exercise, prompts):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS)
    exercise.register_agent(config(exercise, prompts["2"]), DOCS)

    exercise.promote(MODEL, "1")

    assert aliases_of(MODEL) == {"champion": "1", "challenger": "2"}, (
        f"expected promote(..., '1') to leave the challenger alias on version 2 (it retires the "
        f"challenger alias only when it pointed at the promoted version); found "
        f"{aliases_of(MODEL)}"
    )


def test_the_champion_answers_with_the_settings_it_was_registered_with(
    exercise, prompts, fake_llm_env
):
    exercise.register_agent(config(exercise, prompts["1"], top_k=1), DOCS)
    exercise.register_agent(
        config(exercise, prompts["2"], top_k=3, llm_model="gpt-4o", temperature=0.7), DOCS
    )
    exercise.promote(MODEL, "1")
    fake_llm_env.script("Aliases are movable pointers.")

    reply = exercise.load_agent(MODEL).predict(request_for(QUESTION))

    body, text = sent_prompt(fake_llm_env)
    assert answer_text(reply) == "Aliases are movable pointers.", (
        f"expected the champion to return the LLM's reply as its text output; got {reply!r}"
    )
    assert (body.get("model"), body.get("temperature")) == ("gpt-4o-mini", 0.0), (
        f"expected version 1 (the champion) to call model gpt-4o-mini at temperature 0.0; the "
        f"request used model={body.get('model')!r}, temperature={body.get('temperature')!r}"
    )
    assert text.startswith("Answer from the context only."), (
        f"expected the prompt of version 1 (support/1), filled in; the LLM received:\n{text}"
    )
    assert documents_in(text) == ["registry.md"], (
        f"expected exactly top_k=1 document in the prompt, the one sharing the most words with "
        f"the question (registry.md); found {documents_in(text)} in:\n{text}"
    )


def test_load_agent_follows_the_alias_to_another_versions_settings(exercise, prompts, fake_llm_env):
    exercise.register_agent(config(exercise, prompts["1"], top_k=1), DOCS)
    exercise.register_agent(
        config(exercise, prompts["2"], top_k=3, llm_model="gpt-4o", temperature=0.7), DOCS
    )
    exercise.promote(MODEL, "2")

    exercise.load_agent(MODEL).predict(request_for(QUESTION))

    body, text = sent_prompt(fake_llm_env)
    assert (body.get("model"), body.get("temperature")) == ("gpt-4o", 0.7), (
        f"expected version 2 (now the champion) to call gpt-4o at temperature 0.7; the request "
        f"used model={body.get('model')!r}, temperature={body.get('temperature')!r}. The "
        "settings must travel inside the logged model."
    )
    found = documents_in(text)
    assert len(found) == 3 and "registry.md" in found, (
        f"expected top_k=3 documents in the prompt, registry.md among them; found {found}"
    )
    assert text.startswith("Be brief and friendly."), (
        f"expected the prompt of version 2 (support/2); the LLM received:\n{text}"
    )


def test_load_agent_loads_the_alias_it_is_given(exercise, prompts, fake_llm_env):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS)
    exercise.register_agent(config(exercise, prompts["2"], llm_model="gpt-4o"), DOCS)
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", "1")

    exercise.load_agent(MODEL, "challenger").predict(request_for(QUESTION))

    body, _ = sent_prompt(fake_llm_env)
    assert body.get("model") == "gpt-4o", (
        f"expected load_agent(..., 'challenger') to load version 2 (model gpt-4o), not the "
        f"champion; the request used model={body.get('model')!r}"
    )


def test_the_agent_streams_its_answer(exercise, prompts, fake_llm_env):
    exercise.register_agent(config(exercise, prompts["1"]), DOCS)
    exercise.promote(MODEL, "1")
    fake_llm_env.script("Streamed answer.")

    events = list(exercise.load_agent(MODEL).predict_stream(request_for(QUESTION)))

    deltas = "".join(e.get("delta", "") for e in events if e["type"].endswith("text.delta"))
    assert deltas == "Streamed answer.", (
        f"expected text delta events that join to the LLM's reply 'Streamed answer.'; "
        f"got events {events}"
    )
    assert events and events[-1]["type"] == "response.output_item.done", (
        f"expected the stream to end with a response.output_item.done event; got {events}"
    )


def test_each_answer_is_one_trace_linked_to_the_model_and_its_prompt_version(
    exercise, prompts, fake_llm_env
):
    version = exercise.register_agent(config(exercise, prompts["2"]), DOCS)
    exercise.promote(MODEL, str(version.version))
    agent = exercise.load_agent(MODEL)

    _, trace = trace_of(agent.predict, request_for(QUESTION))

    root = root_span(trace)
    assert root is not None and root.span_type == "AGENT", (
        f"expected the answer's trace to start with an AGENT span; found spans:\n{span_tree(trace)}"
    )
    model_id = trace.info.trace_metadata.get("mlflow.modelId")
    assert model_id == logged_model_id(version), (
        f"expected the trace to be linked to the LoggedModel of version {version.version} "
        f"({logged_model_id(version)}); it is linked to {model_id!r}"
    )
    assert linked_prompts(trace) == ["support/2"], (
        f"expected the trace to be linked to the prompt version support/2; found "
        f"{linked_prompts(trace) or 'none'}. Load the prompt inside predict (inside the trace)."
    )
