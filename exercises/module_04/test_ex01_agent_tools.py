"""Checks for ex01_agent_tools: a calculator, a web search and a document lookup, each a
TOOL span, whose failures are messages for the agent and ERROR spans, never crashes."""

from pathlib import Path

import pytest
import requests
import responses

from fixtures.data import load_corpus
from fixtures.messages import shown
from fixtures.traces import exception_messages, root_span, span_status, span_tree, trace_of

SEARCH_URL = "https://search.kata.test/search"
HITS = [
    {"title": f"Result {n}", "url": f"https://docs.kata.test/{n}", "content": f"snippet {n}"}
    for n in range(1, 6)
]


@pytest.fixture
def search_api(monkeypatch):
    """The web search API, mocked with `responses`, and its URL in SEARCH_API_URL."""
    monkeypatch.setenv("SEARCH_API_URL", SEARCH_URL)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _the_tool_span(trace, name):
    span = root_span(trace)
    assert span is not None and span.name == name and span.span_type == "TOOL", (
        f"expected each call of {name} to be one TOOL span named '{name}'; found spans:\n"
        + span_tree(trace)
    )
    return span


def _assert_failed(exercise, name, reply, trace, what):
    assert isinstance(reply, str) and reply.startswith(exercise.ERROR_PREFIX), (
        f"expected {name} to return a message that starts with {exercise.ERROR_PREFIX!r} "
        f"when {what}, so that the agent learns what went wrong; it returned {shown(reply)}"
    )
    span = _the_tool_span(trace, name)
    assert span_status(span) == "ERROR", (
        f"expected the TOOL span of {name} to have status ERROR when {what}; found "
        f"{span_status(span)}. Record the error on the span "
        "(mlflow.get_current_active_span().record_exception(err)) before returning the message."
    )
    return span


# --- calculator ----------------------------------------------------------------------


def _number(reply):
    """The number a calculator reply holds, or None."""
    try:
        return float(reply)
    except (TypeError, ValueError):
        return None


def test_the_calculator_evaluates_arithmetic(exercise):
    cases = {
        "2 + 3 * 4": 14,
        "(2 + 3) * 4": 20,
        "7 / 2": 3.5,
        "17 // 5": 3,
        "17 % 5": 2,
        "2 ** 10": 1024,
        "-5 + 1.5": -3.5,
    }
    for expression, expected in cases.items():
        reply = exercise.calculator(expression)
        assert _number(reply) == expected, (
            f"expected calculator({expression!r}) to return {str(expected)!r}; got {shown(reply)}"
        )


def test_the_calculator_returns_its_result_as_text(exercise):
    reply = exercise.calculator("(2 + 3) * 4")

    assert isinstance(reply, str) and _number(reply) == 20, (
        "expected calculator('(2 + 3) * 4') to return the text '20' (a tool's result is the "
        f"next message the model reads); got {shown(reply)} ({type(reply).__name__})"
    )


def test_each_calculator_call_is_a_tool_span_with_its_input_and_output(exercise):
    reply, trace = trace_of(exercise.calculator, "6 * 7")

    span = _the_tool_span(trace, "calculator")
    assert (span.inputs or {}).get("expression") == "6 * 7", (
        f"expected the calculator span's inputs to hold expression='6 * 7'; found {span.inputs!r}"
    )
    assert span.outputs == reply and _number(reply) == 42, (
        f"expected the calculator span's output to be the result '42'; found {span.outputs!r} "
        f"(the function returned {shown(reply)})"
    )


def test_the_calculator_refuses_anything_but_arithmetic_and_never_runs_it(exercise):
    refused = [
        "__import__('os').mkdir('pwned')",
        "().__class__.__name__",
        "abs(-3)",
        "'ab' * 3",
        "x + 1",
        "[1, 2]",
        "2 +",
    ]
    for expression in refused:
        reply = exercise.calculator(expression)
        assert isinstance(reply, str) and reply.startswith(exercise.ERROR_PREFIX), (
            f"expected calculator({expression!r}) to refuse with a message starting with "
            f"{exercise.ERROR_PREFIX!r} (only numbers and operators are arithmetic); it "
            f"returned {shown(reply)}. Walk the expression's ast instead of calling eval."
        )
    assert not Path("pwned").exists(), (
        "calculator ran the code it was given: the folder 'pwned' was created. Never eval "
        "an expression that comes from a model or a user."
    )


def test_a_refused_expression_is_an_error_message_and_an_error_span(exercise):
    reply, trace = trace_of(exercise.calculator, "abs(-3)")

    span = _assert_failed(exercise, "calculator", reply, trace, "the expression calls a function")
    assert exception_messages(span), (
        "expected the calculator span to record why it refused (an 'exception' event); found "
        "none. span.record_exception(err) adds it."
    )


def test_a_division_by_zero_is_an_error_message_and_an_error_span(exercise):
    reply, trace = trace_of(exercise.calculator, "1 / 0")

    span = _assert_failed(exercise, "calculator", reply, trace, "dividing by zero")
    assert exception_messages(span), (
        "expected the calculator span to record the exception (an 'exception' event); "
        "found none. span.record_exception(err) adds it."
    )


# --- web search -----------------------------------------------------------------------


def test_web_search_asks_the_search_api_for_the_query_with_a_timeout(exercise, search_api):
    search_api.add(responses.GET, SEARCH_URL, json={"results": HITS})

    exercise.web_search("mlflow tracing")

    assert len(search_api.calls) == 1, (
        f"expected one GET to the search API at $SEARCH_API_URL ({SEARCH_URL}); "
        f"found {len(search_api.calls)} requests"
    )
    request = search_api.calls[0].request
    params = {k: request.params.get(k) for k in ("q", "format")}
    assert params == {"q": "mlflow tracing", "format": "json"}, (
        f"expected the parameters q=<the query> and format=json (SearXNG answers JSON only "
        f"when asked); the request was {request.url}"
    )
    timeout = request.req_kwargs.get("timeout")
    seconds = exercise.TIMEOUT_SECONDS
    assert timeout in (seconds, (seconds, seconds)), (
        f"expected the request to have a timeout of TIMEOUT_SECONDS ({seconds}) "
        f"(requests.get(..., timeout=TIMEOUT_SECONDS)); found {shown(timeout)}. Without one "
        "a slow search API hangs the agent forever."
    )


def test_web_search_returns_the_top_results_one_per_line(exercise, search_api):
    search_api.add(responses.GET, SEARCH_URL, json={"results": HITS})

    reply = exercise.web_search("mlflow")

    lines = [line for line in str(reply).splitlines() if line.strip()]
    expected = [f"{h['title']}: {h['content']} ({h['url']})" for h in HITS[: exercise.MAX_RESULTS]]
    assert lines == expected, (
        f"expected the first {exercise.MAX_RESULTS} results, one line each as "
        f"'<title>: <content> (<url>)':\n{expected}\nfound:\n{lines}"
    )


def test_web_search_without_results_says_so(exercise, search_api):
    search_api.add(responses.GET, SEARCH_URL, json={"results": []})

    reply = exercise.web_search("zzyzx")

    assert reply == "No results for 'zzyzx'.", (
        f"expected \"No results for 'zzyzx'.\" when the API finds nothing; got {shown(reply)}"
    )


def test_each_web_search_is_a_tool_span_with_the_query_and_the_results(exercise, search_api):
    search_api.add(responses.GET, SEARCH_URL, json={"results": HITS[:1]})

    reply, trace = trace_of(exercise.web_search, "agents")

    span = _the_tool_span(trace, "web_search")
    assert (span.inputs or {}).get("query") == "agents", (
        f"expected the web_search span's inputs to hold query='agents'; found {span.inputs!r}"
    )
    assert span.outputs == reply and "Result 1" in str(reply), (
        f"expected the web_search span's output to be the results text; found {span.outputs!r} "
        f"(the function returned {shown(reply)})"
    )
    assert span_status(span) == "OK", "expected a successful search to be OK; found:\n" + (
        span_tree(trace)
    )


def _search_never_raising(exercise, query, what):
    try:
        return trace_of(exercise.web_search, query)
    except NotImplementedError:
        raise
    except Exception as err:
        pytest.fail(
            f"web_search raised {shown(err)} when {what}; catch it and return a message for "
            "the agent instead (a tool that raises stops the whole agent)"
        )


def test_a_search_timeout_is_an_error_message_and_an_error_span(exercise, search_api):
    search_api.add(responses.GET, SEARCH_URL, body=requests.exceptions.ReadTimeout("timed out"))

    reply, trace = _search_never_raising(exercise, "slow", "the search API timed out")

    _assert_failed(exercise, "web_search", reply, trace, "the search API times out")
    assert "timed out" in reply, (
        f"expected the message to include the error itself ('timed out'); got {shown(reply)}"
    )


def test_a_connection_error_is_an_error_message_and_an_error_span(exercise, search_api):
    search_api.add(
        responses.GET, SEARCH_URL, body=requests.exceptions.ConnectionError("connection refused")
    )

    reply, trace = _search_never_raising(exercise, "down", "the search API was unreachable")

    _assert_failed(exercise, "web_search", reply, trace, "the search API cannot be reached")


def test_a_reply_that_is_not_json_is_an_error_message_and_an_error_span(exercise, search_api):
    search_api.add(responses.GET, SEARCH_URL, body="<html>Search is down</html>")

    reply, trace = _search_never_raising(exercise, "html", "the API answered HTML")

    _assert_failed(exercise, "web_search", reply, trace, "the API answers something not JSON")


def test_no_search_url_configured_is_an_error_message_and_an_error_span(exercise, monkeypatch):
    monkeypatch.delenv("SEARCH_API_URL", raising=False)

    reply, trace = _search_never_raising(exercise, "anything", "SEARCH_API_URL was not set")

    _assert_failed(exercise, "web_search", reply, trace, "SEARCH_API_URL is not set")


def test_an_http_error_from_the_search_api_is_an_error_message_and_an_error_span(
    exercise, search_api
):
    search_api.add(responses.GET, SEARCH_URL, status=503, json={"error": "overloaded"})

    reply, trace = _search_never_raising(exercise, "busy", "the API answered HTTP 503")

    _assert_failed(exercise, "web_search", reply, trace, "the search API answers HTTP 503")
    assert "503" in reply, (
        f"expected the message to mention the HTTP status 503; got {shown(reply)}"
    )


# --- document lookup --------------------------------------------------------------------


def test_lookup_document_returns_the_text_of_the_document(exercise):
    corpus = load_corpus()

    for name in ("mlflow_tracing", "agents_and_tools.md"):
        reply = exercise.lookup_document(name)
        file_name = name if name.endswith(".md") else f"{name}.md"
        assert reply == corpus[file_name], (
            f"expected lookup_document({name!r}) to return the text of {file_name} from "
            f"fixtures.data.load_corpus(); got {shown(reply, 160)}"
        )


def test_each_lookup_is_a_tool_span_with_the_name_and_the_text(exercise):
    reply, trace = trace_of(exercise.lookup_document, "embeddings")

    span = _the_tool_span(trace, "lookup_document")
    assert (span.inputs or {}).get("name") == "embeddings", (
        f"expected the lookup_document span's inputs to hold name='embeddings'; "
        f"found {span.inputs!r}"
    )
    assert span.outputs == reply, "expected the span's output to be the document's text"


def test_an_unknown_document_is_an_error_message_that_lists_the_documents(exercise):
    try:
        reply, trace = trace_of(exercise.lookup_document, "no_such_doc")
    except LookupError as err:
        pytest.fail(
            f"lookup_document raised {shown(err)} for an unknown name; return a message that "
            "lists the documents instead, so that the agent can try another one"
        )

    _assert_failed(exercise, "lookup_document", reply, trace, "the document does not exist")
    missing = [name for name in load_corpus() if name.removesuffix(".md") not in reply]
    assert not missing, (
        f"expected the message to list the available documents so the agent can retry; "
        f"it does not mention {missing}: {shown(reply, 600)}"
    )
