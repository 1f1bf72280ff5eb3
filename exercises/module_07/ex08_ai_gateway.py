"""Exercise 8: the AI Gateway inside ``mlflow server``: one endpoint, many models.

Your application should hold no provider key and not care which model answers. An MLflow
tracking server (3.x) carries an AI Gateway: provider keys stored encrypted on the server
(secrets), model definitions that use them, and endpoints that route each request to one
of their models, with a fallback chain and a traffic split. Every request becomes a trace
in the endpoint's own experiment, with the tokens and the cost of each model call.

Build, for one team:

1. ``create_gateway(...)``: a secret, three model definitions and two endpoints: a chat
   endpoint whose backup model answers when the primary fails, and an A/B endpoint that
   sends 80% of the requests to the primary model and 20% to a candidate.
2. ``ask(...)``: a question through an endpoint, with the plain OpenAI client.
3. ``usage_by_model(...)``: calls, failures, tokens and cost per model, from the traces
   the server recorded.

The gateway's configuration API in MLflow 3.17 is REST only (the UI uses it too):
``POST {tracking_uri}/api/3.0/mlflow/gateway/secrets/create``,
``/model-definitions/create``, ``/endpoints/create``, ``GET /endpoints/get?name=`` ...
``_gateway`` below does the HTTP plumbing; the payloads are the exercise. The tests start
a real ``mlflow server`` on 127.0.0.1 whose "provider" is the kata's fake OpenAI server.

MLflow APIs practised: the AI Gateway's REST API (secrets, model definitions, endpoints
with FALLBACK models and ``REQUEST_BASED_TRAFFIC_SPLIT``), the OpenAI client against
``{tracking_uri}/gateway/mlflow/v1``, the gateway's traces (LLM spans with
``mlflow.llm.model``, ``mlflow.chat.tokenUsage``, ``mlflow.llm.cost``).

Done looks like this: in the UI, the AI Gateway page lists your two endpoints, and the
experiment ``gateway/<team>-chat`` holds one trace per request, where a request that fell
back shows a failed ``gpt-4o-mini`` call and a ``gpt-4o`` call that answered.

Run the checks: ``uv run pytest exercises/module_07/test_ex08_ai_gateway.py``
"""

from __future__ import annotations

from typing import Any

import mlflow  # noqa: F401 - you will need these
import requests
from openai import OpenAI  # noqa: F401

PRIMARY_MODEL = "gpt-4o-mini"  # answers the chat endpoint, and 80% of the A/B endpoint
BACKUP_MODEL = "gpt-4o"  # answers the chat endpoint when the primary fails
CANDIDATE_MODEL = "gpt-4.1-mini"  # answers 20% of the A/B endpoint
AB_WEIGHTS = {PRIMARY_MODEL: 0.8, CANDIDATE_MODEL: 0.2}


def _gateway(tracking_uri: str, method: str, path: str, body: dict | None = None) -> dict:
    """Call the gateway's REST API: ``_gateway(uri, "POST", "/secrets/create", {...})``.

    Raises ``requests.HTTPError`` (with the server's message) on an error status.
    """
    url = f"{tracking_uri.rstrip('/')}/api/3.0/mlflow/gateway{path}"
    if method == "GET":
        response = requests.get(url, params=body, timeout=30)
    else:
        response = requests.request(method, url, json=body, timeout=30)
    if response.status_code >= 400:
        raise requests.HTTPError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json()


def create_gateway(tracking_uri: str, team: str, api_base: str, api_key: str) -> dict[str, str]:
    """Create the gateway of ``team`` on the server at ``tracking_uri``.

    - one secret named ``f"{team}-openai"``: provider ``"openai"``, ``{"api_key": api_key}`` as
      its (encrypted) value and ``{"api_base": api_base}`` as its auth config;
    - one model definition per model, named ``f"{team}-{model}"``, provider ``"openai"``,
      using that secret: ``PRIMARY_MODEL``, ``BACKUP_MODEL``, ``CANDIDATE_MODEL``;
    - endpoint ``f"{team}-chat"``: ``PRIMARY_MODEL`` as its PRIMARY model, ``BACKUP_MODEL`` as
      its FALLBACK (``fallback_order`` 1): a request that the primary fails is sent once
      more, to the backup (a fallback config ``{"strategy": "SEQUENTIAL", "max_attempts": 1}``
      says so; without one the server tries every fallback in order, here the same);
    - endpoint ``f"{team}-ab"``: routing strategy ``REQUEST_BASED_TRAFFIC_SPLIT`` over two
      PRIMARY models weighted by ``AB_WEIGHTS`` (fractions that sum to 1: 0.8 and 0.2).

    Both endpoints keep usage tracking on (the default): every request becomes a trace in
    the endpoint's own experiment. Returns ``{endpoint name: endpoint id}`` for the two.
    """
    # TODO: _gateway(tracking_uri, "POST", "/secrets/create", {...}) -> ["secret"]["secret_id"];
    #       "/model-definitions/create" once per model -> its model_definition_id;
    #       "/endpoints/create" twice, with "model_configs" (model_definition_id, linkage_type,
    #       weight or fallback_order) -> ["endpoint"]["endpoint_id"].
    raise NotImplementedError("create_gateway: not written yet (see the TODO above)")


def ask(tracking_uri: str, endpoint: str, question: str) -> str:
    """Ask ``question`` through the gateway endpoint ``endpoint`` and return the answer text.

    Uses the plain OpenAI client: the gateway speaks OpenAI's chat completions API at
    ``{tracking_uri}/gateway/mlflow/v1``, with the endpoint's name as the ``model``. No
    provider key on the client side: the server holds it. A request that every model of the
    endpoint fails raises the client's error (``openai.APIStatusError``); do not retry.
    """
    # TODO: OpenAI(base_url=..., api_key=..., max_retries=...).chat.completions.create(
    #       model=<the endpoint's name>, messages=[...]); return the first choice's text.
    raise NotImplementedError("ask: not written yet (see the TODO above)")


def usage_by_model(tracking_uri: str, endpoint: str) -> dict[str, dict[str, Any]]:
    """What the server recorded for ``endpoint``, per model.

    Reads the endpoint (``GET /endpoints/get?name=``) for its ``experiment_id`` and id, then
    the traces of that experiment on the server at ``tracking_uri`` (each has the endpoint's
    id in its metadata ``mlflow.gateway.endpointId``). In each trace every model call is a
    child span of type LLM with the attribute ``mlflow.llm.model``; a call that succeeded
    (status OK) carries ``mlflow.chat.tokenUsage`` and ``mlflow.llm.cost``, one that failed
    has status ERROR.

    Returns ``{model: {"answered": n, "failed": n, "input_tokens": n, "output_tokens": n,
    "cost": usd}}`` with one key per model that was called at least once: ``answered`` counts
    the successful calls (so a request answered by the fallback counts for the backup, not
    the primary), ``failed`` the failed ones, tokens and cost (``total_cost``, 0.0 if the
    span has none) add up over the successful calls only.
    """
    # TODO: the endpoint's experiment_id; the traces of that experiment on the server at
    #       tracking_uri; add up each LLM child span per model (status, tokens, cost).
    raise NotImplementedError("usage_by_model: not written yet (see the TODO above)")
