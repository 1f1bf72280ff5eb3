"""Checks for ex01_decorator_tracing: a pipeline of plain functions traced with @mlflow.trace."""

from fixtures.messages import shown
from fixtures.traces import (
    assert_child_of,
    find_span,
    root_span,
    span_tree,
    trace_of,
    traces_of,
    user_attributes,
)

QUESTION = "What does a span hold?"
# Ranked by words shared with KNOWLEDGE_BASE: spans.md (a, is, span) before search.md
# (a, what); best first is not alphabetical here.
RANKED_QUESTION = "What is a span?"
RANKED = ["spans.md", "search.md"]


def test_answer_question_is_one_trace_and_returns_the_answer(exercise):
    answer, traces = traces_of(exercise.answer_question, QUESTION)

    assert isinstance(answer, str) and answer, f"expected a non-empty answer; got {shown(answer)}"
    assert len(traces) == 1, (
        f"expected one call of answer_question to record exactly one trace; it recorded "
        f"{len(traces)}. The steps must run inside the pipeline's span, not as traces of their own."
    )


def test_the_pipeline_is_the_root_chain_span_named_qa_pipeline(exercise):
    answer, trace = trace_of(exercise.answer_question, QUESTION)

    root = root_span(trace)
    tree = span_tree(trace)
    assert root.name == exercise.PIPELINE_SPAN, (
        f"expected the root span to be named {exercise.PIPELINE_SPAN!r}; found "
        f"{root.name!r}. @mlflow.trace(name=...) sets a span's name.\nspans:\n{tree}"
    )
    assert root.span_type == "CHAIN", (
        f"expected the root span to have the type CHAIN; found {root.span_type}.\nspans:\n{tree}"
    )
    assert root.inputs == {"question": QUESTION}, (
        f"expected the root span's inputs to be {{'question': {QUESTION!r}}}; "
        f"found {shown(root.inputs)}"
    )
    assert root.outputs == answer, (
        f"expected the root span's output to be the answer {shown(answer)}; "
        f"found {shown(root.outputs)}"
    )


def test_retrieval_is_a_retriever_span_directly_under_the_pipeline(exercise):
    _, trace = trace_of(exercise.answer_question, QUESTION)

    retriever = find_span(trace, span_type="RETRIEVER")
    assert_child_of(trace, retriever, parent_name=exercise.PIPELINE_SPAN, direct=True)
    expected = {"question": QUESTION, "top_k": exercise.TOP_K}
    assert retriever.inputs == expected, (
        f"expected the RETRIEVER span to record its inputs {expected}; "
        f"found {shown(retriever.inputs)}"
    )


def test_the_retriever_span_returns_documents_and_records_top_k(exercise):
    _, trace = trace_of(exercise.answer_question, QUESTION)

    retriever = find_span(trace, span_type="RETRIEVER")
    documents = retriever.outputs
    assert isinstance(documents, list) and len(documents) == exercise.TOP_K, (
        f"expected the RETRIEVER span's output to be a list of {exercise.TOP_K} documents; "
        f"found {shown(documents)}"
    )
    for document in documents:
        assert isinstance(document, dict) and {"id", "page_content", "metadata"} <= set(document), (
            "expected each retrieved document to be a dict with 'id', 'page_content' and "
            f"'metadata' (the shape MLflow's UI renders); found {shown(document)}"
        )
        metadata = document["metadata"] if isinstance(document["metadata"], dict) else {}
        assert metadata.get("doc_uri") == document["id"], (
            f"expected each document's metadata to name its doc_uri (its id); "
            f"found {shown(document)}"
        )
        assert document["page_content"] == exercise.KNOWLEDGE_BASE.get(document["id"]), (
            f"expected page_content to be the text of document {shown(document['id'])}; "
            f"found {shown(document['page_content'])}"
        )
    attributes = user_attributes(retriever)
    assert attributes.get("top_k") == exercise.TOP_K, (
        f"expected the RETRIEVER span to carry the attribute top_k={exercise.TOP_K}; found "
        f"attributes {attributes}. Set it on the active span (mlflow.get_current_active_span())."
    )


def test_generation_is_an_llm_span_under_the_pipeline_after_retrieval(exercise):
    answer, trace = trace_of(exercise.answer_question, QUESTION)

    llm = find_span(trace, span_type="LLM")
    retriever = find_span(trace, span_type="RETRIEVER")
    assert_child_of(trace, llm, parent_name=exercise.PIPELINE_SPAN, direct=True)
    assert llm.start_time_ns >= retriever.end_time_ns, (
        f"expected the LLM span to start after the RETRIEVER span ended (retrieve, then "
        f"generate); found spans:\n{span_tree(trace)}"
    )
    assert llm.outputs == answer, (
        f"expected the LLM span's output to be the final answer {shown(answer)}; "
        f"found {shown(llm.outputs)}"
    )
    inputs = llm.inputs if isinstance(llm.inputs, dict) else {}
    assert inputs.get("question") == QUESTION and inputs.get("documents") == retriever.outputs, (
        "expected the LLM span's inputs to be the question and, as 'documents', what the "
        f"retriever returned; found inputs {shown(llm.inputs)}"
    )


def test_the_llm_span_records_the_model_name(exercise):
    _, trace = trace_of(exercise.answer_question, QUESTION)

    llm = find_span(trace, span_type="LLM")
    attributes = user_attributes(llm)
    assert attributes.get("model") == exercise.MODEL_NAME, (
        f"expected the LLM span to carry the attribute model={exercise.MODEL_NAME!r}; found "
        f"attributes {attributes}"
    )


def test_a_step_called_on_its_own_is_a_trace_of_its_own(exercise):
    documents, trace = trace_of(exercise.retrieve, QUESTION, top_k=1)

    root = root_span(trace)
    assert root.span_type == "RETRIEVER", (
        f"expected retrieve(...) called alone to record a trace whose root is a RETRIEVER span; "
        f"found spans:\n{span_tree(trace)}"
    )
    assert isinstance(documents, list) and len(documents) == 1 and root.outputs == documents, (
        f"expected retrieve(top_k=1) to return one document, as recorded by its span; got "
        f"{shown(documents)}, span output {shown(root.outputs)}"
    )


def test_the_top_k_attribute_is_the_one_of_the_call(exercise):
    _, trace = trace_of(exercise.retrieve, QUESTION, top_k=1)

    found = user_attributes(root_span(trace)).get("top_k")
    assert found == 1, (
        "expected retrieve(..., top_k=1) to record the attribute top_k=1 on its span (the "
        f"value of this call, not a constant); found top_k={shown(found)}"
    )


def test_the_documents_come_best_match_first(exercise):
    documents, trace = trace_of(exercise.retrieve, RANKED_QUESTION)

    ids = [d.get("id") if isinstance(d, dict) else shown(d) for d in documents or []]
    assert ids == RANKED, (
        f"expected retrieve({RANKED_QUESTION!r}) to return the documents best match first, "
        f"as _rank orders them: {RANKED}; got {ids}"
    )
    assert root_span(trace).outputs == documents, (
        f"expected the RETRIEVER span to record the documents as returned; found "
        f"{shown(root_span(trace).outputs)}"
    )
