"""Checks for ex03_conversational_agent: memory across turns, the session id and user on
every turn's trace, and a conversation rebuilt from MLflow in turn order."""

import mlflow

from fixtures.fake_chat import scripted_chat_model
from fixtures.messages import shown
from fixtures.snapshots import store_snapshot
from fixtures.traces import root_span, search_traces, span_tree, trace_of

SESSION = "session-42"
USER = "ada@example.com"
SESSION_KEY = "mlflow.trace.session"
USER_KEY = "mlflow.trace.user"


def _texts(messages):
    return [(m.type, m.content) for m in messages]


def _chat(exercise, *replies, session_id=SESSION, user=USER):
    model = scripted_chat_model(*replies)
    return exercise.ChatAgent(model, session_id, user), model


def test_the_agent_answers_with_the_models_reply(exercise):
    agent, _ = _chat(exercise, "Hello Ada!")

    reply = agent.ask("Hi, I am Ada.")

    assert reply == "Hello Ada!", f"expected ask to return the model's reply; got {shown(reply)}"


def test_the_model_sees_the_whole_conversation_so_far(exercise):
    agent, model = _chat(exercise, "Hello Ada!", "You are Ada.")

    agent.ask("Hi, I am Ada.")
    agent.ask("What is my name?")

    seen = _texts(model.calls[1]) if len(model.calls) > 1 else []
    expected = [
        ("system", exercise.SYSTEM_PROMPT),
        ("human", "Hi, I am Ada."),
        ("ai", "Hello Ada!"),
        ("human", "What is my name?"),
    ]
    assert seen == expected, (
        "expected the second turn's model call to get the system prompt, the first message, "
        f"the first reply and the new message:\n{expected}\nit got:\n{seen}"
    )


def test_two_sessions_do_not_share_memory(exercise):
    first, _ = _chat(exercise, "Hello Ada!", session_id="s-1", user="ada")
    second, model = _chat(exercise, "Hello Bob!", session_id="s-2", user="bob")

    first.ask("Hi, I am Ada.")
    second.ask("Hi, I am Bob.")

    seen = _texts(model.calls[0]) if model.calls else []
    assert ("human", "Hi, I am Ada.") not in seen, (
        f"expected Bob's session to know nothing of Ada's; Bob's model call got:\n{seen}"
    )


def test_each_turn_is_one_trace_with_the_message_and_the_reply(exercise):
    agent, _ = _chat(exercise, "Hello Ada!")

    reply, trace = trace_of(agent.ask, "Hi, I am Ada.")

    root = root_span(trace)
    assert (root.inputs or {}).get("message") == "Hi, I am Ada.", (
        f"expected the turn's root span to have the input message='Hi, I am Ada.'; "
        f"found {root.inputs!r} on spans:\n{span_tree(trace)}"
    )
    assert root.outputs == reply == "Hello Ada!", (
        f"expected the root span's output to be the reply 'Hello Ada!'; found {root.outputs!r}"
    )


def test_each_turn_is_an_agent_span(exercise):
    agent, _ = _chat(exercise, "Hello Ada!")

    _, trace = trace_of(agent.ask, "Hi, I am Ada.")

    root = root_span(trace)
    assert root is not None and root.span_type == "AGENT", (
        "expected the turn's root span to have type AGENT (@mlflow.trace(span_type="
        f"SpanType.AGENT)); found spans:\n{span_tree(trace)}"
    )


def test_every_turn_carries_the_session_id_and_the_user(exercise):
    agent, _ = _chat(exercise, "One.", "Two.", "Three.")

    for message in ("first", "second", "third"):
        agent.ask(message)

    traces = search_traces()
    assert len(traces) == 3, f"expected one trace per turn, 3 in all; found {len(traces)}"
    found = [
        (t.info.trace_metadata.get(SESSION_KEY), t.info.trace_metadata.get(USER_KEY))
        for t in traces
    ]
    assert found == [(SESSION, USER)] * 3, (
        f"expected every turn's trace to carry session {SESSION!r} and user {USER!r} (metadata "
        f"{SESSION_KEY} and {USER_KEY}, set with mlflow.update_current_trace(session_id=..., "
        f"user=...)); found (session, user) per turn: {found}"
    )


# --- a conversation read back from MLflow ------------------------------------------------

_T0 = 1_750_000_000_000_000_000  # nanoseconds
_SECOND = 1_000_000_000


def _turn(session_id, user, message, reply, second):
    span = mlflow.start_span_no_context(
        name="chat_turn",
        span_type="AGENT",
        inputs={"message": message},
        metadata={SESSION_KEY: session_id, USER_KEY: user},
        start_time_ns=_T0 + second * _SECOND,
    )
    span.set_outputs(reply)
    span.end(end_time_ns=_T0 + second * _SECOND + 1000)


@store_snapshot
def two_sessions():
    """Two users' conversations in the experiment 'chat', interleaved, recorded in a
    different order than they happened (as traces from several servers arrive), and an
    old turn of the same session id in another experiment, 'archive' (built once, copied
    into each test's store)."""
    archive = mlflow.set_experiment("archive").experiment_id
    _turn("s-ada", "ada", "An archived question", "An archived answer", second=0)
    chat = mlflow.set_experiment("chat").experiment_id
    _turn("s-ada", "ada", "And my favourite colour?", "Green.", second=5)
    _turn("s-bob", "bob", "Hi, I am Bob.", "Hello Bob!", second=2)
    _turn("s-ada", "ada", "Hi, I am Ada.", "Hello Ada!", second=1)
    _turn("s-ada", "ada", "What is my name?", "You are Ada.", second=3)
    _turn("s-bob", "bob", "What is my name?", "You are Bob.", second=4)
    mlflow.flush_trace_async_logging()
    return {"chat": chat, "archive": archive}


def _turns(found) -> list:
    """conversation's result as a list of tuples, whatever it returned."""
    try:
        return [tuple(t) if isinstance(t, list | tuple) else t for t in found or []]
    except TypeError:
        return [shown(found)]


ADA = [
    ("Hi, I am Ada.", "Hello Ada!"),
    ("What is my name?", "You are Ada."),
    ("And my favourite colour?", "Green."),
]


def test_conversation_rebuilds_a_session_from_its_traces_in_turn_order(exercise, two_sessions):
    mlflow.set_experiment(experiment_id=two_sessions["chat"])

    found = _turns(exercise.conversation("s-ada"))

    assert found == ADA, (
        "expected the turns of session 's-ada' only, as (message, reply), ordered by when "
        f"each turn started (not by when it was recorded):\n{ADA}\nfound:\n{found}"
    )


def test_conversation_reads_the_current_experiment_only(exercise, two_sessions):
    mlflow.set_experiment(experiment_id=two_sessions["chat"])

    found = _turns(exercise.conversation("s-ada"))

    assert ("An archived question", "An archived answer") not in found, (
        "expected only the current experiment's turns ('chat'); the experiment 'archive' "
        f"holds an older turn of the same session id, and conversation returned it:\n{found}"
    )


def test_conversation_reads_back_the_agents_own_session(exercise):
    agent, _ = _chat(exercise, "Hello Ada!", "You are Ada.")
    other, _ = _chat(exercise, "Hello Bob!", session_id="session-bob", user="bob")
    agent.ask("Hi, I am Ada.")
    other.ask("Hi, I am Bob.")
    agent.ask("What is my name?")

    turns = exercise.conversation(SESSION)

    expected = [("Hi, I am Ada.", "Hello Ada!"), ("What is my name?", "You are Ada.")]
    found = _turns(turns)
    assert found == expected, f"expected the session's turns {expected}; found {found}"
