"""The kit's fake LLM server (fixtures/llm_server.py), driven by real clients."""

import math
import socket

import httpx
import mlflow
import ollama
import openai
import pytest
from langchain.agents import create_agent
from langchain_core.tools import tool
from langchain_ollama import ChatOllama, OllamaEmbeddings
from langchain_openai import ChatOpenAI

from fixtures.llm_server import Failure, FakeLLMServer, Reply, ToolCall, embed_text

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture
def client(fake_llm_server):
    return openai.OpenAI(base_url=fake_llm_server.openai_base_url, api_key="sk-fake")


@pytest.fixture
def chat_openai(fake_llm_server):
    return ChatOpenAI(
        base_url=fake_llm_server.openai_base_url, api_key="sk-fake", model="gpt-4o-mini"
    )


@pytest.fixture
def chat_ollama(fake_llm_server):
    return ChatOllama(base_url=fake_llm_server.ollama_base_url, model="llama3.2")


# --- OpenAI -------------------------------------------------------------------


def test_the_openai_client_gets_the_scripted_reply_and_its_usage(fake_llm_server, client):
    fake_llm_server.script("Paris is the capital.")
    response = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert response.choices[0].message.content == "Paris is the capital."
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (6, 4)
    assert response.usage.total_tokens == 10


def test_the_openai_client_streams_the_same_text_and_then_the_usage(fake_llm_server, client):
    fake_llm_server.script("Paris is the capital.")
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris is the capital."
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == 10


def test_a_scripted_tool_call_reaches_the_openai_client(fake_llm_server, client):
    fake_llm_server.script(ToolCall("add", {"a": 1, "b": 2}, id="call_1"))
    response = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = choice.message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_1",
        "add",
        '{"a": 1, "b": 2}',
    )


def test_an_unscripted_request_gets_a_deterministic_echo(client):
    response = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert response.choices[0].message.content == "Echo: What is the capital of France?"


def test_a_custom_responder_answers_when_nothing_is_scripted(fake_llm_server, client):
    fake_llm_server.responder = lambda request: request.body["model"].upper()
    response = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert response.choices[0].message.content == "GPT-4O-MINI"


def test_a_scripted_failure_is_an_http_error_for_the_client(fake_llm_server, client):
    fake_llm_server.script(Failure(status=429, message="slow down"))
    with pytest.raises(openai.RateLimitError, match="slow down"):
        client.with_options(max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=QUESTION
        )


def test_the_openai_client_lists_the_models(client):
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini", "llama3.2"]


def test_openai_embeddings_are_deterministic_unit_vectors(client):
    result = client.embeddings.create(model="text-embedding-3-small", input=["spark udf", "x"])
    vector = result.data[0].embedding
    assert vector == pytest.approx(embed_text("spark udf"))
    assert math.isclose(sum(x * x for x in vector), 1.0, rel_tol=1e-5)


def test_chat_openai_invokes_and_gets_the_scripted_reply(fake_llm_server, chat_openai):
    fake_llm_server.script("Paris.")
    message = chat_openai.invoke("What is the capital of France?")
    assert message.content == "Paris."
    assert message.usage_metadata["total_tokens"] == 7


def test_chat_openai_streams_the_scripted_reply_with_usage(fake_llm_server, chat_openai):
    fake_llm_server.script("Paris is the capital.")
    chunks = list(chat_openai.stream("What is the capital of France?", stream_usage=True))
    full = sum(chunks[1:], chunks[0])
    assert full.content == "Paris is the capital."
    assert full.usage_metadata["output_tokens"] == 4


def test_a_scripted_tool_call_reaches_chat_openai_as_tool_calls(fake_llm_server, chat_openai):
    fake_llm_server.script(ToolCall("add", {"a": 1, "b": 2}, id="call_1"))
    message = chat_openai.invoke("What is 1 + 2?")
    assert message.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "call_1", "type": "tool_call"}
    ]


def test_chat_openai_calls_are_traced_with_token_usage_under_autolog(fake_llm_server, chat_openai):
    mlflow.langchain.autolog()
    fake_llm_server.script("Paris.")
    chat_openai.invoke("What is the capital of France?")
    traces = mlflow.search_traces(return_type="list")
    assert len(traces) == 1
    assert [s.span_type for s in traces[0].data.spans] == ["CHAT_MODEL"]
    usage = traces[0].info.token_usage
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (6, 1, 7)


def test_an_agent_on_chat_openai_runs_the_tool_the_server_asked_for(fake_llm_server, chat_openai):
    fake_llm_server.script(ToolCall("add", {"a": 1, "b": 2}, id="call_1"), "3")
    agent = create_agent(chat_openai, tools=[add])
    result = agent.invoke({"messages": [{"role": "user", "content": "What is 1 + 2?"}]})
    assert result["messages"][-1].content == "3"
    tool_message = fake_llm_server.chat_requests[1].body["messages"][-1]
    assert tool_message == {"role": "tool", "content": "3", "tool_call_id": "call_1"}


# --- Ollama -------------------------------------------------------------------


def test_chat_ollama_invokes_and_gets_the_reply_and_usage(fake_llm_server, chat_ollama):
    fake_llm_server.script("Paris.")
    message = chat_ollama.invoke("What is the capital of France?")
    assert message.content == "Paris."
    assert message.usage_metadata == {"input_tokens": 6, "output_tokens": 1, "total_tokens": 7}


def test_chat_ollama_streams_the_reply_and_usage(fake_llm_server, chat_ollama):
    fake_llm_server.script("Paris is the capital.")
    chunks = list(chat_ollama.stream("What is the capital of France?"))
    full = sum(chunks[1:], chunks[0])
    assert full.content == "Paris is the capital."
    assert full.usage_metadata["total_tokens"] == 10


def test_a_scripted_tool_call_reaches_chat_ollama_as_tool_calls(fake_llm_server, chat_ollama):
    fake_llm_server.script(ToolCall("add", {"a": 1, "b": 2}))
    message = chat_ollama.invoke("What is 1 + 2?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("add", {"a": 1, "b": 2})]


def test_the_ollama_client_gets_one_json_answer_when_not_streaming(fake_llm_server):
    fake_llm_server.script("Paris.")
    client = ollama.Client(host=fake_llm_server.ollama_base_url)
    response = client.chat(model="llama3.2", messages=QUESTION, stream=False)
    assert (response.message.content, response.done, response.done_reason) == (
        "Paris.",
        True,
        "stop",
    )
    assert (response.prompt_eval_count, response.eval_count) == (6, 1)


def test_chat_ollama_finds_its_model_in_the_served_tags(fake_llm_server):
    model = ChatOllama(
        base_url=fake_llm_server.ollama_base_url, model="llama3.2", validate_model_on_init=True
    )
    assert model.model == "llama3.2"
    assert fake_llm_server.requests[-1].path == "/api/tags"


def test_the_ollama_client_gets_the_model_details(fake_llm_server):
    client = ollama.Client(host=fake_llm_server.ollama_base_url)
    assert "tools" in (client.show("llama3.2").capabilities or [])


def test_the_ollama_api_reports_a_version(fake_llm_server):
    response = httpx.get(f"{fake_llm_server.ollama_base_url}/api/version")
    assert response.json()["version"]


def test_ollama_embeddings_match_the_openai_ones(fake_llm_server):
    embeddings = OllamaEmbeddings(
        base_url=fake_llm_server.ollama_base_url, model="nomic-embed-text"
    )
    assert embeddings.embed_query("spark udf") == pytest.approx(embed_text("spark udf"))


# --- the server itself --------------------------------------------------------


def test_requests_are_recorded_with_their_path_and_json_body(fake_llm_server, client):
    client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    (request,) = fake_llm_server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.body["messages"] == QUESTION
    assert request.headers["authorization"] == "Bearer sk-fake"
    assert request.last_user_text == "What is the capital of France?"


def test_scripted_replies_are_shared_by_both_apis_in_order(fake_llm_server, client, chat_ollama):
    fake_llm_server.script("first", Reply(text="second"))
    response = client.chat.completions.create(model="m", messages=QUESTION)
    assert response.choices[0].message.content == "first"
    assert chat_ollama.invoke("q").content == "second"
    assert [r.path for r in fake_llm_server.chat_requests] == ["/v1/chat/completions", "/api/chat"]


def test_reset_forgets_scripted_replies_and_recorded_requests(fake_llm_server, client):
    fake_llm_server.script("unused")
    client.models.list()
    fake_llm_server.reset()
    assert (fake_llm_server.pending, fake_llm_server.requests) == (0, [])


def test_an_unknown_path_is_a_404(fake_llm_server, client):
    with pytest.raises(openai.NotFoundError):
        client.with_options(max_retries=0).completions.create(model="m", prompt="hi")


def test_a_standalone_server_serves_inside_a_with_block_only():
    with FakeLLMServer() as server:
        url = server.openai_base_url
        client = openai.OpenAI(base_url=url, api_key="sk-fake", max_retries=0)
        assert client.models.list().data
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


def test_a_client_hanging_up_is_not_printed_but_a_server_bug_is(capsys):
    with FakeLLMServer() as server, socket.socket() as client:
        for error in (BrokenPipeError("the client went away"), KeyError("a bug")):
            try:
                raise error
            except Exception:
                server._httpd.handle_error(client, ("127.0.0.1", 1))
    err = capsys.readouterr().err
    assert "the client went away" not in err
    assert "KeyError: 'a bug'" in err
