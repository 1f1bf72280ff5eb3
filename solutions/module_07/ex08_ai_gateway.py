"""Reference solution for module_07/ex08_ai_gateway: the AI Gateway inside `mlflow server`.

An MLflow tracking server (3.x) carries an AI Gateway: provider API keys stored encrypted on
the server, endpoints that route to one or more models, with a fallback chain and a traffic
split, and a trace of every request (tokens and cost) in the endpoint's experiment.

Done when one team's two endpoints (one with a fallback, one with an 80/20 traffic split)
answer the plain OpenAI client with the key the server holds, and the usage per model is
read back from the traces the server recorded.
"""

from __future__ import annotations

from typing import Any

import mlflow
import requests
from openai import OpenAI

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
    secret = _gateway(tracking_uri, "POST", "/secrets/create", {
        "secret_name": f"{team}-openai",
        "secret_value": {"api_key": api_key},
        "provider": "openai",
        "auth_config": {"api_base": api_base},
    })["secret"]  # fmt: skip
    model_ids = {}
    for model in (PRIMARY_MODEL, BACKUP_MODEL, CANDIDATE_MODEL):
        definition = _gateway(tracking_uri, "POST", "/model-definitions/create", {
            "name": f"{team}-{model}",
            "secret_id": secret["secret_id"],
            "provider": "openai",
            "model_name": model,
        })["model_definition"]  # fmt: skip
        model_ids[model] = definition["model_definition_id"]

    chat_name, ab_name = f"{team}-chat", f"{team}-ab"
    chat = _gateway(tracking_uri, "POST", "/endpoints/create", {
        "name": chat_name,
        "model_configs": [
            {"model_definition_id": model_ids[PRIMARY_MODEL], "linkage_type": "PRIMARY",
             "weight": 1.0},
            {"model_definition_id": model_ids[BACKUP_MODEL], "linkage_type": "FALLBACK",
             "fallback_order": 1},
        ],
        # optional: with FALLBACK models and no fallback_config, the server tries them all
        "fallback_config": {"strategy": "SEQUENTIAL", "max_attempts": 1},
    })["endpoint"]  # fmt: skip
    ab = _gateway(tracking_uri, "POST", "/endpoints/create", {
        "name": ab_name,
        "routing_strategy": "REQUEST_BASED_TRAFFIC_SPLIT",
        "model_configs": [
            {"model_definition_id": model_ids[model], "linkage_type": "PRIMARY", "weight": weight}
            for model, weight in AB_WEIGHTS.items()
        ],
    })["endpoint"]  # fmt: skip
    return {chat_name: chat["endpoint_id"], ab_name: ab["endpoint_id"]}


def ask(tracking_uri: str, endpoint: str, question: str) -> str:
    """Ask ``question`` through the gateway endpoint ``endpoint`` and return the answer text.

    Uses the plain OpenAI client: the gateway speaks OpenAI's chat completions API at
    ``{tracking_uri}/gateway/mlflow/v1``, with the endpoint's name as the ``model``. No
    provider key on the client side: the server holds it. A request that every model of the
    endpoint fails raises the client's error (``openai.APIStatusError``); do not retry.
    """
    client = OpenAI(base_url=f"{tracking_uri.rstrip('/')}/gateway/mlflow/v1",
                    api_key="unused", max_retries=0)  # fmt: skip
    reply = client.chat.completions.create(
        model=endpoint, messages=[{"role": "user", "content": question}]
    )
    return reply.choices[0].message.content


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
    endpoint_info = _gateway(tracking_uri, "GET", "/endpoints/get", {"name": endpoint})["endpoint"]
    traces = mlflow.MlflowClient(tracking_uri=tracking_uri).search_traces(
        locations=[endpoint_info["experiment_id"]],
        filter_string=f"metadata.`mlflow.gateway.endpointId` = '{endpoint_info['endpoint_id']}'",
        max_results=500,
    )
    usage: dict[str, dict[str, Any]] = {}
    for trace in traces:
        for span in trace.data.spans:
            model = span.attributes.get("mlflow.llm.model")
            if span.parent_id is None or span.span_type != "LLM" or not model:
                continue  # the root span repeats the answering model: count each call once
            row = usage.setdefault(model, {"answered": 0, "failed": 0, "input_tokens": 0,
                                           "output_tokens": 0, "cost": 0.0})  # fmt: skip
            if span.status.status_code == "ERROR":
                row["failed"] += 1
                continue
            row["answered"] += 1
            tokens = span.attributes.get("mlflow.chat.tokenUsage") or {}
            row["input_tokens"] += tokens.get("input_tokens", 0)
            row["output_tokens"] += tokens.get("output_tokens", 0)
            row["cost"] += (span.attributes.get("mlflow.llm.cost") or {}).get("total_cost", 0.0)
    return usage
