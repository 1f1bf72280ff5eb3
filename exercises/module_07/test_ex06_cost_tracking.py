"""Checks for ex06_cost_tracking: token usage and cost per request, read from traces."""

import time

import mlflow
import pytest
from langchain_openai import ChatOpenAI

from fixtures.messages import shown
from fixtures.traces import find_span, span_tree, trace_of

pytestmark = pytest.mark.usefixtures("fake_llm_env", "model_prices")


def call(model: str, question: str) -> str:
    """One autologged ChatOpenAI call against the fake server; returns its trace id."""
    mlflow.langchain.autolog(silent=True)
    ChatOpenAI(model=model, temperature=0).invoke(question)
    time.sleep(0.002)  # the next call's trace starts in a later millisecond
    return mlflow.get_last_active_trace_id()


def items_of(value) -> list:
    """What the learner's code returned, as a list (a non-list stays whole, in a list)."""
    return list(value) if isinstance(value, list | tuple) else [value]


def fields_of(item, *names) -> tuple:
    """The named attributes of a returned item, None where one is missing."""
    return tuple(getattr(item, name, None) for name in names)


def trace_ids_of(costs) -> list:
    """The trace ids of what request_costs returned, whatever it returned."""
    return [getattr(c, "trace_id", c) for c in items_of(costs)]


def usage_of(trace_id: str) -> tuple[int, int]:
    usage = mlflow.get_trace(trace_id).info.token_usage
    return usage["input_tokens"], usage["output_tokens"]


def test_ask_returns_the_reply_of_the_model_it_names(exercise, fake_llm_env):
    fake_llm_env.script("Paris.")

    reply = exercise.ask("What is the capital of France?", model="kata-small")

    assert reply == "Paris.", f"expected the model's reply 'Paris.'; got {reply!r}"
    sent = fake_llm_env.chat_requests[-1].body
    assert sent.get("model") == "kata-small", (
        f"expected the chat request to name model 'kata-small'; it named {sent.get('model')!r}"
    )


def test_ask_records_one_trace_with_token_usage_and_cost(exercise, model_prices):
    _, trace = trace_of(exercise.ask, "How much does this question cost?")

    chat = find_span(trace, span_type="CHAT_MODEL")
    usage = trace.info.token_usage
    assert usage and usage.get("input_tokens") and usage.get("output_tokens"), (
        f"expected the trace to record token usage; found {usage!r} on spans:\n"
        f"{span_tree(trace)}\nUse ChatOpenAI with mlflow.langchain.autolog() on."
    )
    expected = model_prices.cost("gpt-4o-mini", usage["input_tokens"], usage["output_tokens"])
    cost = (trace.info.cost or {}).get("total_cost")
    assert cost == pytest.approx(expected), (
        f"expected the trace's cost to be {expected} dollars (gpt-4o-mini at the price "
        f"table's rates); found {trace.info.cost!r}"
    )
    assert chat.get_attribute("mlflow.llm.model") == "gpt-4o-mini", (
        "expected the chat model span to name gpt-4o-mini (the default MODEL); found "
        f"{chat.get_attribute('mlflow.llm.model')!r}"
    )


def test_request_costs_reads_tokens_and_cost_from_each_trace(exercise, model_prices):
    calls = [
        ("gpt-4o-mini", "one two three"),
        ("kata-large", "a somewhat longer question with more words"),
        ("gpt-4o-mini", "short"),
    ]
    trace_ids = [call(model, question) for model, question in calls]

    costs = exercise.request_costs()

    got = [
        fields_of(c, "trace_id", "model", "input_tokens", "output_tokens") for c in items_of(costs)
    ]
    expected = [(t, m, *usage_of(t)) for t, (m, _) in zip(trace_ids, calls, strict=True)]
    assert got == expected, (
        f"expected one RequestCost per traced request, oldest first, with trace id, model "
        f"and tokens:\n  expected {expected}\n  got      {got}"
    )
    for cost, (model, _) in zip(costs, calls, strict=True):
        wanted = model_prices.cost(model, cost.input_tokens, cost.output_tokens)
        assert isinstance(cost.cost_usd, float) and cost.cost_usd == pytest.approx(wanted), (
            f"expected {model}'s request to cost {wanted} dollars (the trace's total_cost); "
            f"got {shown(cost.cost_usd)}"
        )


def test_an_unpriced_model_keeps_its_tokens_but_has_no_cost(exercise):
    trace_id = call("mystery-model", "what does this cost")

    costs = exercise.request_costs()

    assert [fields_of(c, "trace_id", "cost_usd") for c in items_of(costs)] == [(trace_id, None)], (
        f"expected one request with cost_usd None (MLflow has no price for mystery-model); "
        f"got {shown(costs)}"
    )
    assert (costs[0].input_tokens, costs[0].output_tokens) == usage_of(trace_id), (
        f"expected its tokens {usage_of(trace_id)} all the same; got {costs[0]}"
    )


def test_traces_without_token_usage_are_left_out(exercise):
    @mlflow.trace
    def no_llm_here(x):
        return x

    no_llm_here(1)
    trace_id = call("gpt-4o-mini", "counted")

    costs = exercise.request_costs()

    assert trace_ids_of(costs) == [trace_id], (
        f"expected only the request that called a chat model; got {shown(costs)}"
    )


def test_request_costs_without_an_experiment_reads_the_current_one(exercise):
    call("gpt-4o-mini", "asked in the default experiment")
    mlflow.set_experiment("ex06-current")
    current = call("kata-small", "asked in the current experiment")

    found = trace_ids_of(exercise.request_costs())

    assert found == [current], (
        f"expected request_costs() (no experiment_id) to read the current experiment only: "
        f"{[current]}; got {shown(found)}"
    )


def test_request_costs_reads_only_the_given_experiment(exercise):
    mlflow.set_experiment("ex06-team-a")
    team_a = call("gpt-4o-mini", "from team a")
    team_b_id = mlflow.set_experiment("ex06-team-b").experiment_id
    team_b = call("kata-small", "from team b")
    team_a_id = mlflow.get_experiment_by_name("ex06-team-a").experiment_id

    in_a = trace_ids_of(exercise.request_costs(team_a_id))
    in_b = trace_ids_of(exercise.request_costs(team_b_id))

    assert (in_a, in_b) == ([team_a], [team_b]), (
        f"expected each experiment's request only: team a {[team_a]}, team b {[team_b]}; "
        f"got {in_a} and {in_b}"
    )


def test_cost_by_model_adds_up_requests_tokens_and_cost_per_model(exercise):
    costs = [
        exercise.RequestCost("tr-1", "gpt-4o-mini", 100, 20, 0.000027),
        exercise.RequestCost("tr-2", "kata-large", 10, 5, 0.00006),
        exercise.RequestCost("tr-3", "gpt-4o-mini", 50, 10, 0.0000135),
        exercise.RequestCost("tr-4", "gpt-4o-mini", 7, 3, None),
    ]

    totals = exercise.cost_by_model(costs)

    assert isinstance(totals, dict), f"expected a dict of ModelCost by model; got {shown(totals)}"
    got = {
        model: fields_of(t, "requests", "input_tokens", "output_tokens", "cost_usd",
                         "unpriced_requests")
        for model, t in totals.items()
    }  # fmt: skip
    got = {
        model: (*v[:3], round(v[3], 9) if isinstance(v[3], float) else v[3], v[4])
        for model, v in got.items()
    }
    expected = {
        "gpt-4o-mini": (3, 157, 33, 0.0000405, 1),
        "kata-large": (1, 10, 5, 0.00006, 0),
    }
    assert got == expected, (
        f"expected per model (requests, input_tokens, output_tokens, cost_usd, "
        f"unpriced_requests) {expected}; got {got}"
    )


def test_a_request_without_a_model_is_billed_under_unknown(exercise):
    costs = [
        exercise.RequestCost("tr-1", None, 10, 2, None),
        exercise.RequestCost("tr-2", None, 5, 1, 0.001),
        exercise.RequestCost("tr-3", "kata-small", 3, 1, 0.0001),
    ]

    totals = exercise.cost_by_model(costs)

    assert isinstance(totals, dict), f"expected a dict of ModelCost by model; got {shown(totals)}"
    unknown = totals.get("unknown")
    got = (
        sorted(map(str, totals)),
        getattr(unknown, "requests", None),
        getattr(unknown, "input_tokens", None),
        getattr(unknown, "unpriced_requests", None),
    )
    assert got == (["kata-small", "unknown"], 2, 15, 1), (
        f"expected the two requests without a model under the key 'unknown' (2 requests, 15 "
        f"input tokens, 1 unpriced) beside 'kata-small'; got {shown(totals)}"
    )
