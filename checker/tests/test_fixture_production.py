"""The production kit: a registered agent with known answers, and what a trace stores."""

import mlflow
import pytest

from checker.asserts import find_span, trace_of
from checker.lookups import aliases_of, linked_prompts, stages_of
from fixtures.production import (
    FAIL_QUESTION,
    AgentFailure,
    answer_text,
    good_answers,
    logged_model_id,
    partial_answers,
    register_canned_agent,
    request_for,
    sse_data,
    trace_text,
)

QUESTION, ANSWER = next(iter(good_answers().items()))


def test_a_canned_agent_is_a_registered_version_with_an_alias_and_no_stage():
    first = register_canned_agent("bot", good_answers(), alias="champion")
    second = register_canned_agent("bot", partial_answers())

    assert (str(first.version), str(second.version)) == ("1", "2")
    assert aliases_of("bot") == {"champion": "1"}
    assert stages_of("bot") == {}
    assert mlflow.get_logged_model(logged_model_id(first)).model_id.startswith("m-")


def test_a_loaded_canned_agent_answers_from_its_table_as_an_agent_trace():
    version = register_canned_agent("bot", good_answers(), alias="champion")
    agent = mlflow.pyfunc.load_model("models:/bot@champion")

    reply, trace = trace_of(agent.predict, request_for(QUESTION))

    assert answer_text(reply) == ANSWER
    assert answer_text(agent.predict(request_for("unknown?"))) == "I don't know."
    assert find_span(trace, span_type="AGENT")
    assert trace.info.trace_metadata.get("mlflow.modelId") == logged_model_id(version)


def test_a_canned_agent_streams_word_by_word_and_fails_on_purpose():
    register_canned_agent("bot", good_answers(), alias="champion")
    agent = mlflow.pyfunc.load_model("models:/bot@champion")

    events = list(agent.predict_stream(request_for(QUESTION)))

    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == ANSWER
    assert events[-1]["type"] == "response.output_item.done"
    with pytest.raises(AgentFailure):
        agent.predict(request_for(FAIL_QUESTION))


def test_a_canned_agent_with_a_prompt_links_it_to_each_trace():
    uri = mlflow.genai.register_prompt(name="support", template="Q: {{question}}").uri
    register_canned_agent("bot", good_answers(), alias="champion", prompt_uri=uri)
    agent = mlflow.pyfunc.load_model("models:/bot@champion")

    _, trace = trace_of(agent.predict, request_for(QUESTION))

    assert linked_prompts(trace) == ["support/1"]


def test_partial_answers_keep_the_first_words_of_the_expected_ones():
    for question, partial in partial_answers(0.4).items():
        full = good_answers()[question]
        assert partial and full.startswith(partial)
        assert len(partial) < len(full) or len(full.split()) == 1


def test_trace_text_holds_inputs_outputs_attributes_and_tags():
    @mlflow.trace(attributes={"api_key": "sk-attribute-secret"})
    def leaky(message):
        mlflow.update_current_trace(tags={"owner": "owner@example.com"})
        return "out-" + message

    _, trace = trace_of(leaky, "in-secret")

    text = trace_text(trace)
    for secret in ["in-secret", "out-in-secret", "sk-attribute-secret", "owner@example.com"]:
        assert secret in text


def test_sse_data_reads_the_data_lines_of_each_event():
    body = 'data: {"delta": "a"}\n\nevent: x\ndata: {"delta": "b"}\n\ndata: [DONE]\n\n'
    assert sse_data(body) == ['{"delta": "a"}', '{"delta": "b"}', "[DONE]"]
