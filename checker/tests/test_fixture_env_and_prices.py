"""``fake_llm_env`` points real clients at the fake server; ``model_prices`` costs their usage."""

import mlflow
import openai
import pytest
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI

from checker.asserts import find_span, trace_of


def test_real_openai_clients_reach_the_fake_server_without_arguments(fake_llm_env):
    fake_llm_env.script("from the fake server", "again")

    reply = openai.OpenAI().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )

    assert reply.choices[0].message.content == "from the fake server"
    assert ChatOpenAI(model="gpt-4o-mini").invoke("hi").content == "again"


def test_the_ollama_client_reaches_the_fake_server_through_ollama_host(fake_llm_env):
    fake_llm_env.script("hello from ollama")
    assert ChatOllama(model="llama3.2").invoke("hi").content == "hello from ollama"
    assert fake_llm_env.chat_requests[-1].path == "/api/chat"


def test_autologged_calls_are_costed_from_the_local_price_table(fake_llm_env, model_prices):
    fake_llm_env.script("one two three")
    mlflow.langchain.autolog(silent=True)

    _, trace = trace_of(ChatOpenAI(model="kata-large").invoke, "four words of input")

    usage = find_span(trace, span_type="CHAT_MODEL").get_attribute("mlflow.chat.tokenUsage")
    expected = model_prices.cost("kata-large", usage["input_tokens"], usage["output_tokens"])
    assert trace.info.cost["total_cost"] == pytest.approx(expected)
    assert expected > 0
