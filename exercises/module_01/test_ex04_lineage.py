"""Checks for ex04_lineage: traces, runs and prompts linked to a LoggedModel, read back."""

import mlflow
from mlflow import MlflowClient

from fixtures.messages import shown
from fixtures.prompts import linked_prompts
from fixtures.runs import all_runs, model_ids_of
from fixtures.snapshots import store_snapshot
from fixtures.traces import only_trace, root_span, search_traces

PROMPT = "qa"
TEMPLATE = "Answer in one sentence: {{question}}"
QUESTIONS = ["What is a trace?", "What is a run?", "What is a LoggedModel?"]
ELSEWHERE = "kata-ex04-elsewhere"


def _qa_prompt():
    """The prompt 'qa', version 1."""
    return mlflow.genai.register_prompt(name=PROMPT, template=TEMPLATE).uri


prompt_uri = store_snapshot(_qa_prompt, name="prompt_uri")


def test_answer_is_one_trace_that_loads_the_prompt(exercise, prompt_uri):
    reply = exercise.answer("What is MLflow?", prompt_uri)

    assert reply == "Answer in one sentence: What is MLflow?", (
        f"expected answer to return the prompt filled in with the question; got {shown(reply)}"
    )
    prompts = linked_prompts(only_trace())
    assert f"{PROMPT}/1" in prompts, (
        f"expected the trace to be linked to the prompt version {PROMPT}/1; linked prompts: "
        f"{prompts or 'none'}. Load the prompt inside the traced function."
    )


def test_answer_records_the_question_as_input_and_the_reply_as_output(exercise, prompt_uri):
    reply = exercise.answer("What is MLflow?", prompt_uri)

    root = root_span(only_trace())
    inputs = root.inputs if root else None
    recorded = inputs == "What is MLflow?" or (
        isinstance(inputs, dict) and "What is MLflow?" in inputs.values()
    )
    assert recorded, (
        "expected the trace's root span to record the question as its input "
        f"({{'question': 'What is MLflow?', ...}}); found {shown(inputs)}"
    )
    outputs = root.outputs if root else None
    assert outputs == reply, (
        f"expected the trace's root span to record the reply {shown(reply)} as its output; "
        f"found {shown(outputs)}"
    )


def test_every_answer_loads_the_prompt_inside_its_own_trace(exercise, prompt_uri):
    exercise.answer("What is a trace?", prompt_uri)
    exercise.answer("What is a span?", prompt_uri)

    traces = search_traces()
    linked = [linked_prompts(trace) for trace in traces]
    assert len(traces) == 2 and all(f"{PROMPT}/1" in found for found in linked), (
        f"expected two traces, each linked to the prompt version {PROMPT}/1; found "
        f"{len(traces)} traces with linked prompts {linked}. Load the prompt in every call, "
        "inside the trace: a prompt kept from an earlier call is not linked to the new trace."
    )


def test_run_app_returns_the_id_of_a_logged_model_with_that_name(exercise, prompt_uri):
    model_id = exercise.run_app("qa-bot", prompt_uri, QUESTIONS[:1])

    assert isinstance(model_id, str) and model_id.startswith("m-"), (
        f"expected run_app to return a LoggedModel id (m-...); got {shown(model_id)}"
    )
    model = MlflowClient().get_logged_model(model_id)
    assert model.name == "qa-bot", (
        f"expected run_app to return the id of the LoggedModel 'qa-bot'; "
        f"{model_id} is named {model.name!r}"
    )


def test_a_second_run_app_reuses_the_logged_model_of_that_name(exercise, prompt_uri):
    first = exercise.run_app("qa-bot", prompt_uri, QUESTIONS[:1])
    second = exercise.run_app("qa-bot", prompt_uri, QUESTIONS[1:2])

    named = mlflow.search_logged_models(
        experiment_ids=[e.experiment_id for e in mlflow.search_experiments()],
        filter_string="name = 'qa-bot'",
        output_format="list",
    )
    assert first == second and len(named) == 1, (
        f"expected both calls to run as the same LoggedModel 'qa-bot'; they returned "
        f"{shown(first)} then {shown(second)}, and the store holds {len(named)} models named "
        "'qa-bot'. set_active_model(name=...) finds the model when it already exists."
    )


def test_run_app_links_one_trace_per_question_to_the_model(exercise, prompt_uri):
    model_id = exercise.run_app("qa-bot", prompt_uri, QUESTIONS)

    linked = search_traces(model_id=model_id)
    every = search_traces()
    assert len(linked) == len(QUESTIONS), (
        f"expected {len(QUESTIONS)} traces linked to the model {model_id}, one per question; "
        f"found {len(linked)} linked, out of {len(every)} traces in all. "
        "Traces are linked to the model that is active while they are recorded."
    )

    def question_of(trace):
        root = root_span(trace)
        seen = f"{root.inputs} {root.outputs}" if root else ""
        return next((q for q in QUESTIONS if q in seen), None)

    asked = sorted(str(question_of(t)) for t in linked)
    assert asked == sorted(QUESTIONS), (
        f"expected one trace per question {QUESTIONS}, each with its question in the root "
        f"span's inputs or outputs; found the questions {asked}. Trace spans: "
        + "; ".join(str([(s.name, s.inputs, s.outputs) for s in t.data.spans]) for t in linked)
    )


def test_run_app_records_one_run_linked_to_the_model(exercise, prompt_uri, mlflow_store):
    model_id = exercise.run_app("qa-bot", prompt_uri, QUESTIONS)

    client = mlflow_store.client()
    runs = all_runs()
    assert len(runs) == 1, f"expected exactly one run; found {len(runs)}"
    run = runs[0]
    source_run = client.get_logged_model(model_id).source_run_id
    assert model_id in model_ids_of(run) or source_run == run.info.run_id, (
        f"expected the run to be linked to the model {model_id} (as the model's source run, "
        f"or with the model among its inputs or outputs); the run lists models "
        f"{sorted(model_ids_of(run)) or 'none'}. A metric logged while the model is "
        "active links the run to it."
    )
    assert run.data.metrics.get("questions_answered") == len(QUESTIONS), (
        f"expected the metric questions_answered={len(QUESTIONS)} on the run; "
        f"found metrics {run.data.metrics}"
    )
    assert mlflow.active_run() is None, "expected no run to be left active after run_app"


def test_the_prompt_version_is_linked_to_the_model_and_the_run(exercise, prompt_uri, mlflow_store):
    model_id = exercise.run_app("qa-bot", prompt_uri, QUESTIONS[:2])

    on_model = linked_prompts(mlflow_store.client().get_logged_model(model_id))
    assert on_model == [f"{PROMPT}/1"], (
        f"expected the model to be linked to the prompt version {PROMPT}/1; found {on_model}. "
        "load_prompt links the prompt to the model that is active when it runs."
    )
    on_runs = {run.info.run_id: linked_prompts(run) for run in all_runs()}
    assert any(f"{PROMPT}/1" in p for p in on_runs.values()), (
        f"expected the run to be linked to the prompt version {PROMPT}/1; found {on_runs}. "
        "load_prompt links the prompt to the run that is active when it runs."
    )


def _two_models():
    """Model A and model B in 'kata-ex04-lineage', each with its own traces, runs and
    prompt version, and a run and a trace of model A in another experiment.

    Built with MLflow's public API only, so model_lineage must read it back from
    the store: nothing of it went through the learner's code.
    """
    mlflow.set_experiment("kata-ex04-lineage")
    client = MlflowClient()
    mlflow.genai.register_prompt(name=PROMPT, template=TEMPLATE)
    mlflow.genai.register_prompt(name=PROMPT, template="Be brief. {{question}}")

    @mlflow.trace
    def reply(question):
        return question

    def traces_for(model_id, questions):
        ids = set()
        with mlflow.set_active_model(model_id=model_id):
            for question in questions:
                reply(question)
                ids.add(mlflow.get_last_active_trace_id())
        return ids

    with mlflow.start_run() as source_run:
        model_a = mlflow.create_external_model(name="bot-a")
    with mlflow.start_run() as eval_run:
        mlflow.log_metric("score", 0.9, model_id=model_a.model_id)
    client.link_prompt_version_to_model(PROMPT, "2", model_a.model_id)
    a_traces = traces_for(model_a.model_id, QUESTIONS[:2])

    model_b = mlflow.create_external_model(name="bot-b")
    with mlflow.start_run():
        mlflow.log_metric("score", 0.4, model_id=model_b.model_id)
    client.link_prompt_version_to_model(PROMPT, "1", model_b.model_id)
    traces_for(model_b.model_id, QUESTIONS[2:])

    mlflow.set_experiment(ELSEWHERE)
    with mlflow.start_run() as stray_run:
        mlflow.log_metric("score", 0.1, model_id=model_a.model_id)
    stray_traces = traces_for(model_a.model_id, ["Asked in another experiment?"])

    labels = {
        source_run.info.run_id: "the run that created bot-a (its source run)",
        eval_run.info.run_id: "the run that logged a metric for bot-a (bot-a is among its inputs)",
        stray_run.info.run_id: f"a run of the experiment {ELSEWHERE!r}, not bot-a's",
    }
    labels.update({trace_id: "a trace recorded while bot-a was active" for trace_id in a_traces})
    stray = f"a trace of the experiment {ELSEWHERE!r}, not bot-a's"
    labels.update({trace_id: stray for trace_id in stray_traces})
    return {
        "labels": labels,
        "model_id": model_a.model_id,
        "trace_ids": sorted(a_traces),
        "run_ids": sorted([source_run.info.run_id, eval_run.info.run_id]),
        "prompt_versions": [f"{PROMPT}/2"],
    }


two_models = store_snapshot(_two_models, name="two_models")


def test_lineage_is_read_back_from_the_store_in_the_model_experiment_only(exercise, two_models):
    # Another experiment is active, and it holds a run and a trace of bot-a too:
    # only the model's own experiment counts.
    mlflow.set_experiment(ELSEWHERE)

    lineage = exercise.model_lineage(two_models["model_id"])

    labels = two_models["labels"]

    def named(ids):
        return [f"{i} ({labels[i]})" if i in labels else i for i in sorted(ids)]

    for part in ("trace_ids", "run_ids", "prompt_versions"):
        try:
            found = set(getattr(lineage, part, None) or ())
        except TypeError:
            found = {shown(getattr(lineage, part, None))}
        expected = set(two_models[part])
        assert found == expected, (
            f"expected model_lineage(...).{part} of model 'bot-a' to be {sorted(expected)}; "
            f"found {sorted(found)}"
            + (f"; missing: {named(expected - found)}" if expected - found else "")
            + (f"; not linked to bot-a: {named(found - expected)}" if found - expected else "")
        )
