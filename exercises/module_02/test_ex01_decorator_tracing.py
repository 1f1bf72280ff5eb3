"""Checks for ex01_decorator_tracing: a pipeline of plain functions traced with @mlflow.trace."""

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


def test_answer_question_is_one_trace_and_returns_the_answer(exercise):
    answer, traces = traces_of(exercise.answer_question, QUESTION)

    assert isinstance(answer, str) and answer, f"expected a non-empty answer; got {answer!r}"
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
        f"expected the root span's inputs to be {{'question': {QUESTION!r}}}; found {root.inputs!r}"
    )
    assert root.outputs == answer, (
        f"expected the root span's output to be the answer {answer!r}; found {root.outputs!r}"
    )


def test_retrieval_is_a_retriever_span_directly_under_the_pipeline(exercise):
    _, trace = trace_of(exercise.answer_question, QUESTION)

    retriever = find_span(trace, span_type="RETRIEVER")
    assert_child_of(trace, retriever, parent_name=exercise.PIPELINE_SPAN, direct=True)
    assert (retriever.inputs or {}).get("question") == QUESTION, (
        f"expected the RETRIEVER span to record the question as its input 'question'; "
        f"found inputs {retriever.inputs!r}"
    )


def test_the_retriever_span_returns_documents_and_records_top_k(exercise):
    _, trace = trace_of(exercise.answer_question, QUESTION)

    retriever = find_span(trace, span_type="RETRIEVER")
    documents = retriever.outputs
    assert isinstance(documents, list) and len(documents) == exercise.TOP_K, (
        f"expected the RETRIEVER span's output to be a list of {exercise.TOP_K} documents; "
        f"found {documents!r}"
    )
    for document in documents:
        assert isinstance(document, dict) and {"id", "page_content", "metadata"} <= set(document), (
            "expected each retrieved document to be a dict with 'id', 'page_content' and "
            f"'metadata' (the shape MLflow's UI renders); found {document!r}"
        )
        assert document["metadata"].get("doc_uri") == document["id"], (
            f"expected each document's metadata to name its doc_uri (its id); found {document!r}"
        )
        assert document["page_content"] == exercise.KNOWLEDGE_BASE.get(document["id"]), (
            f"expected page_content to be the text of document {document['id']!r}; "
            f"found {document['page_content']!r}"
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
        f"expected the LLM span's output to be the final answer {answer!r}; found {llm.outputs!r}"
    )
    assert (llm.inputs or {}).get("documents") == retriever.outputs, (
        "expected the LLM span's input 'documents' to be what the retriever returned; found "
        f"inputs {llm.inputs!r}"
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
    assert len(documents) == 1 and root.outputs == documents, (
        f"expected retrieve(top_k=1) to return one document, as recorded by its span; got "
        f"{documents!r}, span output {root.outputs!r}"
    )
