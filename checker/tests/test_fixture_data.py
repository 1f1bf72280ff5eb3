"""The kit's sample data: the corpus, its questions and the evaluation set."""

from fixtures.data import corpus_dir, load_corpus, load_eval_set, load_questions


def test_the_corpus_has_eight_to_ten_markdown_documents():
    docs = load_corpus()
    assert 8 <= len(docs) <= 10, sorted(docs)
    assert all(name.endswith(".md") for name in docs)


def test_every_document_has_150_to_400_words():
    lengths = {name: len(text.split()) for name, text in load_corpus().items()}
    assert all(150 <= n <= 400 for n in lengths.values()), lengths


def test_the_corpus_dir_holds_the_documents_and_the_questions():
    assert (corpus_dir() / "questions.json").is_file()
    assert {p.name for p in corpus_dir().glob("*.md")} == set(load_corpus())


def test_every_question_has_a_question_an_answer_a_source_and_keywords():
    for item in load_questions():
        assert set(item) == {"question", "answer", "source", "keywords"}, item
        assert item["question"].endswith("?"), item
        assert 2 <= len(item["keywords"]) <= 4, item


def test_every_answer_appears_verbatim_in_its_source_document():
    docs = load_corpus()
    missing = [q for q in load_questions() if q["answer"] not in docs[q["source"]]]
    assert not missing, missing


def test_every_keyword_appears_in_its_source_document():
    docs = load_corpus()
    for q in load_questions():
        text = docs[q["source"]].lower()
        assert all(k.lower() in text for k in q["keywords"]), q


def test_every_eval_item_has_a_question_an_expected_response_and_facts():
    items = load_eval_set()
    assert 6 <= len(items) <= 12
    for item in items:
        assert set(item) == {"inputs", "expectations"}, item
        assert set(item["inputs"]) == {"question"}, item
        assert set(item["expectations"]) == {"expected_response", "expected_facts"}, item
        assert item["expectations"]["expected_response"], item
        facts = item["expectations"]["expected_facts"]
        assert facts and all(isinstance(f, str) and f for f in facts), item
