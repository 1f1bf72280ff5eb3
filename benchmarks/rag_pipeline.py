"""How long does the Module 5 pipeline take on many documents? Not a test: a measurement.

    uv run python benchmarks/rag_pipeline.py [--documents 2000] [--chunk-size 512]
        [--chunk-overlap 50] [--keep DIR] [--remote [sc://host:port/;token=...]]

Generates documents from the sentences of the kit's corpus (deterministic, in a
temporary folder), then takes them through the reference solutions of Module 5,
stage by stage, and prints the time of each:

    generate   write the documents to disk
    server     (Spark Connect) start a local Spark Connect server, unless one is given
    spark      start a local SparkSession, or connect to the server
    load       ex02 load_documents_with_spark, counted (Spark reads every file)
    chunk      ex02 chunk_documents_with_spark, cached and counted (the Python UDF)
    collect    ex03 chunks_to_nodes (the chunks come to the driver)
    index      VectorStoreIndex over the nodes with the mock embedding (KeywordEmbedding)
    query      the 12 sample questions, top 3 (tracing off: the index is measured, not MLflow)

With ``--remote`` the same stages run twice in one run, in classic local mode and
over Spark Connect (against the server given, or a local one started for the
run), and the figures are printed side by side. Nothing is written to an MLflow
store.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make checker/ and fixtures/ importable

from stages import measure, over_spark_connect, print_side_by_side  # noqa: E402


def generate_documents(folder: Path, count: int, seed: int = 0) -> int:
    """``count`` markdown documents of 10-40 corpus sentences each; returns the characters."""
    from fixtures.data import load_corpus
    from fixtures.llama import sentences

    pool = [s for text in load_corpus().values() for s in sentences(text)]
    rng = random.Random(seed)
    total = 0
    for number in range(count):
        sub = folder / f"part_{number // 500:02d}"  # a few subfolders, as real collections have
        sub.mkdir(parents=True, exist_ok=True)
        body = " ".join(rng.choice(pool) for _ in range(rng.randint(10, 40)))
        text = f"# Generated document {number}\n\n{body}\n"
        (sub / f"doc_{number:05d}.md").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def run_stages(args, folder: Path, timed) -> None:
    """The Spark stages, then the LlamaIndex ones, on the documents in ``folder``."""
    from examples import spark_session
    from examples.rag import load_pipeline

    pipeline = load_pipeline()
    loading = pipeline["ex02_spark_loading"]
    rag = pipeline["ex03_llamaindex_rag"]

    # quick_start off: the JVM as a long job would run it
    session = spark_session("rag-benchmark", quick_start=False)
    spark = timed("spark", session.__enter__, lambda s: type(s).__module__.split(".")[-2])
    try:
        docs = loading.load_documents_with_spark(spark, str(folder)).cache()
        timed("load", docs.count, lambda n: f"{n} rows")
        chunks = loading.chunk_documents_with_spark(
            spark, docs, args.chunk_size, args.chunk_overlap
        ).cache()
        timed(
            "chunk",
            chunks.count,
            lambda n: f"{n} chunks ({args.chunk_size}/{args.chunk_overlap})",
        )
        nodes = timed("collect", lambda: rag.chunks_to_nodes(chunks), lambda n: f"{len(n)} nodes")
    finally:
        session.__exit__(None, None, None)

    from llama_index.core import VectorStoreIndex

    from fixtures.data import load_questions

    index = timed(
        "index",
        lambda: VectorStoreIndex(nodes, embed_model=rag.make_embed_model("mock")),
        lambda _: f"{len(nodes)} vectors of {rag.make_embed_model('mock').embed_dim}",
    )
    engine = index.as_query_engine(llm=rag.make_llm("mock"), similarity_top_k=3)
    questions = load_questions()
    timed(
        "query",
        lambda: [rag.ask(engine, q["question"]) for q in questions],
        lambda answers: f"{len(answers)} questions",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--chunk-overlap", type=int, default=50)
    parser.add_argument("--keep", help="generate into this folder and keep it")
    parser.add_argument(
        "--remote",
        nargs="?",
        const="local",
        help="also run over Spark Connect: against this sc:// URL, or (no value) a local server",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch) / "documents"
        start = time.perf_counter()
        chars = generate_documents(folder, args.documents)
        print(f"generate: {args.documents} documents, {chars:,} characters, "
              f"{time.perf_counter() - start:.2f} s")  # fmt: skip
        runs = {"local": measure(lambda timed: run_stages(args, folder, timed))}
        if args.remote:
            runs["spark connect"] = over_spark_connect(
                args.remote, Path(scratch), lambda timed: run_stages(args, folder, timed)
            )
    print_side_by_side(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
