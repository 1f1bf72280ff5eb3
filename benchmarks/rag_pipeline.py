"""How long does the Module 5 pipeline take on many documents? Not a test: a measurement.

    uv run python benchmarks/rag_pipeline.py [--documents 2000] [--chunk-size 512]
        [--chunk-overlap 50] [--keep DIR]

Generates documents from the sentences of the kit's corpus (deterministic, in a
temporary folder), then takes them through the reference solutions of Module 5,
stage by stage, and prints the time of each:

    generate   write the documents to disk
    spark      start a local SparkSession (or reuse the active one)
    load       ex02 load_documents_with_spark, counted (Spark reads every file)
    chunk      ex02 chunk_documents_with_spark, cached and counted (the Python UDF)
    collect    ex03 chunks_to_nodes (the chunks come to the driver)
    index      VectorStoreIndex over the nodes with the mock embedding (KeywordEmbedding)
    query      the 12 sample questions, top 3 (tracing off: the index is measured, not MLflow)

Nothing is written to an MLflow store.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--chunk-overlap", type=int, default=50)
    parser.add_argument("--keep", help="generate into this folder and keep it")
    args = parser.parse_args(argv)

    timings: list[tuple[str, float, str]] = []

    def timed(stage: str, fn, describe=lambda result: ""):
        print(f"{stage} ...", flush=True)
        start = time.perf_counter()
        result = fn()
        timings.append((stage, time.perf_counter() - start, describe(result)))
        return result

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch) / "documents"
        chars = timed(
            "generate",
            lambda: generate_documents(folder, args.documents),
            lambda n: f"{args.documents} documents, {n:,} characters",
        )

        from examples import spark_session
        from examples.rag import load_pipeline

        pipeline = load_pipeline()
        loading = pipeline["ex02_spark_loading"]
        rag = pipeline["ex03_llamaindex_rag"]

        # quick_start off: the JVM as a long job would run it
        session = spark_session("rag-benchmark", quick_start=False)
        spark = timed("spark", session.__enter__, lambda s: f"master {s.sparkContext.master}")
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
            nodes = timed(
                "collect", lambda: rag.chunks_to_nodes(chunks), lambda n: f"{len(n)} nodes"
            )
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

    print()
    print(f"{'stage':<10} {'seconds':>8}  details")
    for stage, seconds, details in timings:
        print(f"{stage:<10} {seconds:>8.2f}  {details}")
    total = sum(seconds for _, seconds, _ in timings)
    print(f"{'total':<10} {total:>8.2f}  ({chars:,} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
