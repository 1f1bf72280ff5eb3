"""checker.lookups: runs, prompt links, registry aliases and assessments read back."""

import mlflow
from mlflow.entities import AssessmentSource

from checker.asserts import trace_of
from checker.lookups import (
    aliases_of,
    all_runs,
    assessment_value,
    assessments,
    describe_assessments,
    linked_prompts,
    model_ids_of,
    model_versions,
    stages_of,
    version_of_alias,
)


def test_all_runs_carry_their_model_inputs_and_outputs():
    with mlflow.start_run() as first:
        model = mlflow.create_external_model(name="bot")
    with mlflow.start_run() as second:
        mlflow.log_metric("score", 1.0, model_id=model.model_id)

    runs = all_runs()

    assert [r.info.run_id for r in runs] == [first.info.run_id, second.info.run_id]
    assert model_ids_of(runs[1]) == {model.model_id}


def test_linked_prompts_of_a_run_a_trace_and_a_model():
    prompt = mlflow.genai.register_prompt(name="qa", template="Answer: {{question}}")
    active = mlflow.set_active_model(name="qa-bot")

    @mlflow.trace
    def answer(question):
        return mlflow.genai.load_prompt(prompt.uri).format(question=question)

    with mlflow.start_run() as run:
        _, trace = trace_of(answer, "why?")
    model = mlflow.get_logged_model(active.model_id)

    assert linked_prompts(run) == ["qa/1"]
    assert linked_prompts(trace) == ["qa/1"]
    assert linked_prompts(model) == ["qa/1"]


def _register(name):
    with mlflow.start_run():
        model = mlflow.create_external_model(name=name)
    return mlflow.register_model(model.model_uri, name)


def test_model_versions_and_aliases():
    client = mlflow.MlflowClient()
    _register("agent"), _register("agent")
    client.set_registered_model_alias("agent", "champion", "2")
    client.set_registered_model_alias("agent", "challenger", "1")

    assert [str(v.version) for v in model_versions("agent")] == ["1", "2"]
    assert aliases_of("agent") == {"champion": "2", "challenger": "1"}
    assert version_of_alias("agent", "champion") == "2"
    assert version_of_alias("agent", "staging") is None
    assert aliases_of("no-such-model") == {} and stages_of("agent") == {}


def test_assessments_by_name_and_source_are_read_fresh():
    _, trace = trace_of(mlflow.trace(lambda: "answer"))
    trace_id = trace.info.trace_id
    mlflow.log_feedback(
        trace_id=trace_id, name="thumbs", value=True, source=AssessmentSource("HUMAN", "ana")
    )
    mlflow.log_feedback(
        trace_id=trace_id, name="thumbs", value=False, source=AssessmentSource("CODE", "check")
    )
    mlflow.log_expectation(trace_id=trace_id, name="expected", value="answer")

    human = assessments(trace, name="thumbs", source_type="HUMAN")

    assert [assessment_value(a) for a in human] == [True]
    assert len(assessments(trace_id)) == 3
    assert describe_assessments(assessments(trace, source_type="CODE")) == "thumbs=False (CODE)"
