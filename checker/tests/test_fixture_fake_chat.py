"""The scripted LangChain chat model of the kit (fixtures/fake_chat.py)."""

import mlflow
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from fixtures.fake_chat import (
    ScriptExhaustedError,
    parallel_tool_calls,
    reply,
    scripted_chat_model,
    tool_call,
)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _ask(agent, question: str) -> list:
    return agent.invoke({"messages": [{"role": "user", "content": question}]})["messages"]


def test_the_model_answers_with_its_scripted_replies_in_order():
    model = scripted_chat_model("first", reply("second"))
    assert model.invoke("a").content == "first"
    assert model.invoke("b").content == "second"


def test_tool_call_builds_an_ai_message_that_asks_for_one_tool():
    message = tool_call("add", {"a": 1, "b": 2}, id="call_1")
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}
    ]


def test_tool_call_makes_up_an_id_when_none_is_given():
    assert tool_call("add", {}).tool_calls[0]["id"].startswith("call_")


def test_parallel_tool_calls_asks_for_several_tools_in_one_turn():
    message = parallel_tool_calls(tool_call("add", {"a": 1, "b": 2}), tool_call("add", {}))
    assert [c["name"] for c in message.tool_calls] == ["add", "add"]


def test_bind_tools_returns_the_model_itself():
    model = scripted_chat_model("hi")
    assert model.bind_tools([add], tool_choice="auto") is model


def test_the_model_records_the_messages_of_each_call():
    model = scripted_chat_model("one", "two")
    model.invoke([HumanMessage("hello")])
    model.invoke("again")
    assert [m[-1].content for m in model.calls] == ["hello", "again"]


def test_streaming_yields_the_reply_word_by_word():
    chunks = list(scripted_chat_model("Paris is nice").stream("q"))
    assert [c.content for c in chunks] == ["Paris ", "is ", "nice"]


def test_streaming_a_tool_call_merges_back_into_the_same_tool_call():
    model = scripted_chat_model(tool_call("add", {"a": 1, "b": 2}, id="c1"))
    full = None
    for chunk in model.stream("q"):
        full = chunk if full is None else full + chunk
    assert full.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}
    ]


def test_running_out_of_replies_raises_a_clear_error():
    model = scripted_chat_model("only one")
    model.invoke("a")
    with pytest.raises(ScriptExhaustedError, match="no reply left for call #2"):
        model.invoke("b")


def test_create_agent_runs_the_scripted_tool_call_and_returns_the_answer():
    agent = create_agent(scripted_chat_model(tool_call("add", {"a": 1, "b": 2}), "3"), tools=[add])
    messages = _ask(agent, "What is 1 + 2?")
    tool_results = [m for m in messages if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_results] == ["3"]
    assert messages[-1].content == "3"


def test_create_agent_under_langchain_autolog_gives_chat_model_and_tool_spans():
    mlflow.langchain.autolog()
    agent = create_agent(scripted_chat_model(tool_call("add", {"a": 1, "b": 2}), "3"), tools=[add])
    _ask(agent, "What is 1 + 2?")
    traces = mlflow.search_traces(return_type="list")
    assert len(traces) == 1
    span_types = [s.span_type for s in traces[0].data.spans]
    assert span_types.count("CHAT_MODEL") == 2, span_types
    tool_span = next(s for s in traces[0].data.spans if s.span_type == "TOOL")
    assert tool_span.name == "add"
