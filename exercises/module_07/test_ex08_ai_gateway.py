"""Checks for ex08_ai_gateway: endpoints with a fallback and a traffic split in the AI Gateway
of a real ``mlflow server`` (one per test session), in front of the fake OpenAI server, and the
usage the server recorded. Each test makes a team of its own (gateway names are unique per
server)."""

from __future__ import annotations

import uuid

import openai
import pytest
import requests

from fixtures.gateway_server import wait_for_traces
from fixtures.llm_server import Failure, count_tokens
from fixtures.messages import shown

API_KEY = "sk-kata-gateway-0123456789"
PRIMARY, BACKUP, CANDIDATE = "gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"
# MLflow 3.17.2's bundled price list, USD per token (input, output)
PRICES = {PRIMARY: (0.15e-6, 0.60e-6), BACKUP: (2.50e-6, 10.0e-6)}


@pytest.fixture
def server(gateway_mlflow_server, fake_llm_server):
    """The session's server, and the fake OpenAI server (reset) behind its gateway."""
    return gateway_mlflow_server


def new_gateway(exercise, server, llm) -> tuple[str, str, str, object]:
    """A fresh team's gateway, made by the learner's create_gateway (the first thing each
    test does): (tracking uri, chat endpoint, ab endpoint, what create_gateway returned)."""
    team = f"team-{uuid.uuid4().hex[:8]}"
    created = exercise.create_gateway(server.url, team, llm.openai_base_url, API_KEY)
    return server.url, f"{team}-chat", f"{team}-ab", created


def _rest(uri: str, path: str, **params) -> dict:
    response = requests.get(f"{uri}/api/3.0/mlflow/gateway{path}", params=params, timeout=30)
    assert response.status_code == 200, (
        f"expected the server to find {path} {params}; it answered {response.status_code} "
        f"{response.text[:300]}"
    )
    return response.json()


def _endpoint(uri: str, name: str) -> dict:
    return _rest(uri, "/endpoints/get", name=name)["endpoint"]


def _models_called(llm) -> list:
    return [r.body.get("model") for r in llm.chat_requests]


def _links(endpoint: dict) -> dict:
    return {
        m.get("model_definition", {}).get("model_name"): m.get("linkage_type")
        for m in endpoint.get("model_mappings", [])
    }


# --- configuration, as the server stores it --------------------------------------------------


def test_create_gateway_returns_the_id_of_each_endpoint(exercise, server, fake_llm_server):
    uri, chat, ab, created = new_gateway(exercise, server, fake_llm_server)

    expected = {chat: _endpoint(uri, chat)["endpoint_id"], ab: _endpoint(uri, ab)["endpoint_id"]}
    assert created == expected, f"expected {expected}; create_gateway returned {shown(created)}"


def test_the_provider_key_is_stored_as_a_secret_with_the_services_address(
    exercise, server, fake_llm_server
):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)
    team = chat.removesuffix("-chat")

    secrets = _rest(uri, "/secrets/list")["secrets"]
    secret = next((s for s in secrets if s.get("secret_name") == f"{team}-openai"), None)
    assert secret, (
        f"expected a secret named {team + '-openai'!r}; found "
        f"{shown([s.get('secret_name') for s in secrets])}"
    )
    assert secret.get("provider") == "openai", f"expected provider 'openai'; found {shown(secret)}"
    auth = secret.get("auth_config") or {}
    assert auth.get("api_base") == fake_llm_server.openai_base_url, (
        f"expected the service's address {fake_llm_server.openai_base_url!r} as 'api_base' in "
        f"the secret's auth_config; found {shown(auth)}"
    )


def test_each_model_is_defined_once_under_the_teams_name(exercise, server, fake_llm_server):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)
    team = chat.removesuffix("-chat")

    definitions = _rest(uri, "/model-definitions/list")["model_definitions"]

    found = sorted(
        (d.get("name"), d.get("model_name"), d.get("provider"))
        for d in definitions
        if str(d.get("name", "")).startswith(f"{team}-")
    )
    expected = sorted((f"{team}-{m}", m, "openai") for m in (PRIMARY, BACKUP, CANDIDATE))
    assert found == expected, (
        f"expected the model definitions (name, model_name, provider) {expected}; found {found}"
    )


def test_the_chat_endpoint_has_the_backup_model_as_its_fallback(exercise, server, fake_llm_server):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)

    links = _links(_endpoint(uri, chat))

    assert links == {PRIMARY: "PRIMARY", BACKUP: "FALLBACK"}, (
        f"expected {PRIMARY} as PRIMARY and {BACKUP} as FALLBACK on {chat!r}; found {links}"
    )


def test_the_ab_endpoint_splits_traffic_80_20_between_primary_and_candidate(
    exercise, server, fake_llm_server
):
    uri, _, ab, _ = new_gateway(exercise, server, fake_llm_server)

    endpoint = _endpoint(uri, ab)

    assert endpoint.get("routing_strategy") == "REQUEST_BASED_TRAFFIC_SPLIT", (
        f"expected routing_strategy REQUEST_BASED_TRAFFIC_SPLIT on {ab!r}; "
        f"found {shown(endpoint.get('routing_strategy'))}"
    )
    weights = {
        m.get("model_definition", {}).get("model_name"): (
            m.get("linkage_type"),
            round(float(m.get("weight") or 0), 3),
        )
        for m in endpoint.get("model_mappings", [])
    }
    assert weights == {PRIMARY: ("PRIMARY", 0.8), CANDIDATE: ("PRIMARY", 0.2)}, (
        f"expected two PRIMARY models weighted 0.8 ({PRIMARY}) and 0.2 ({CANDIDATE}): weights "
        f"are fractions that sum to 1; found (linkage, weight) {weights}"
    )


# --- requests through the gateway -------------------------------------------------------------


def test_a_question_is_answered_by_the_primary_model_with_the_key_the_server_holds(
    exercise, server, fake_llm_server
):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)

    answer = exercise.ask(uri, chat, "What is a gateway endpoint?")

    assert answer == "Echo: What is a gateway endpoint?", (
        f"expected the model's answer text; got {shown(answer)}"
    )
    assert _models_called(fake_llm_server) == [PRIMARY], (
        f"expected one call to {PRIMARY}; the model server saw {_models_called(fake_llm_server)}"
    )
    auth = fake_llm_server.chat_requests[0].headers.get("authorization")
    assert auth == f"Bearer {API_KEY}", (
        f"expected the gateway to send the key stored in the secret; the model server saw "
        f"{shown(auth)}"
    )


def test_when_the_primary_model_fails_the_backup_model_answers(exercise, server, fake_llm_server):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)
    fake_llm_server.script(Failure(status=500, message="primary is down"))

    answer = exercise.ask(uri, chat, "Are you there?")

    assert answer == "Echo: Are you there?", f"expected the backup's answer; got {shown(answer)}"
    assert _models_called(fake_llm_server) == [PRIMARY, BACKUP], (
        f"expected {PRIMARY} to fail and {BACKUP} to answer; the model server saw "
        f"{_models_called(fake_llm_server)}"
    )


def test_when_every_model_fails_the_error_reaches_the_caller_without_retries(
    exercise, server, fake_llm_server
):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)
    fake_llm_server.script(Failure(status=500), Failure(status=500))

    raised = answer = None
    try:
        answer = exercise.ask(uri, chat, "Anyone?")
    except openai.APIStatusError as error:
        raised = error

    assert _models_called(fake_llm_server) == [PRIMARY, BACKUP], (
        "expected one failed call to each model and no retry by the client; the model server "
        f"saw {_models_called(fake_llm_server)}"
    )
    assert raised is not None, (
        f"expected ask to raise openai.APIStatusError when every model fails; it returned "
        f"{shown(answer)}"
    )


# --- usage recorded by the server ---------------------------------------------------------


def test_usage_counts_each_call_for_the_model_that_made_it(exercise, server, fake_llm_server):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)
    questions = ["one two three", "four five", "six seven eight nine"]
    fake_llm_server.script(Failure(status=500))  # the first request falls back
    answers = [exercise.ask(uri, chat, q) for q in questions]
    wait_for_traces(uri, _endpoint(uri, chat)["experiment_id"], len(questions))

    usage = exercise.usage_by_model(uri, chat)

    calls = {m: (row.get("answered"), row.get("failed")) for m, row in (usage or {}).items()}
    assert calls == {PRIMARY: (2, 1), BACKUP: (1, 0)}, (
        f"expected {PRIMARY} to answer 2 and fail 1, {BACKUP} to answer 1 (the fallback), "
        f"read from the traces on the server at tracking_uri; found (answered, failed) {calls}"
    )
    tokens = {m: (row.get("input_tokens"), row.get("output_tokens")) for m, row in usage.items()}
    expected = {
        PRIMARY: (
            sum(count_tokens(q) for q in questions[1:]),
            sum(count_tokens(a) for a in answers[1:]),
        ),
        BACKUP: (count_tokens(questions[0]), count_tokens(answers[0])),
    }
    assert tokens == expected, (
        f"expected the tokens of the successful calls (input, output): {expected}; found {tokens}"
    )


def test_usage_cost_is_priced_by_the_server_for_each_model(exercise, server, fake_llm_server):
    uri, chat, _, _ = new_gateway(exercise, server, fake_llm_server)
    fake_llm_server.script(Failure(status=500))
    exercise.ask(uri, chat, "price this please")
    exercise.ask(uri, chat, "and this one")
    wait_for_traces(uri, _endpoint(uri, chat)["experiment_id"], 2)

    usage = exercise.usage_by_model(uri, chat)

    assert set(usage or {}) == {PRIMARY, BACKUP}, (
        f"expected a row for {PRIMARY} and {BACKUP}; found {shown(usage)}"
    )
    for model, row in usage.items():
        price_in, price_out = PRICES[model]
        expected = row.get("input_tokens", 0) * price_in + row.get("output_tokens", 0) * price_out
        assert expected > 0 and row.get("cost") == pytest.approx(expected, rel=1e-6), (
            f"expected the cost of {model} to add up the server's 'total_cost' of its "
            f"successful calls: {expected:.3g} USD; found {shown(row.get('cost'))}"
        )
