"""The learning plan's RAG commands, on the reference solutions of Module 5.

``uv run mlflow-sample-documents`` writes the sample documents (the kit's
corpus) to ``./documents``.

``uv run mlflow-spark-llamaindex-rag --llm-type mock --create-sample-docs``
runs the whole pipeline against ``./mlflow.db`` (or ``MLFLOW_TRACKING_URI``):
Spark loads and chunks the documents (exercise 2), LlamaIndex indexes them
and answers the sample questions with autolog tracing every query (exercise
3), and the RAG metrics go to the run (exercise 4). ``--sweep`` tries the
chunk sizes 256, 512, 1024 with the overlaps 0, 50, 100 as child runs and
keeps the best (exercise 5). ``--llm-type ollama`` and ``--llm-type openai``
use the real services named by ``OLLAMA_HOST`` and ``OPENAI_API_KEY`` /
``OPENAI_BASE_URL``.

An existing SparkSession (``SparkSession.getActiveSession()``) is reused and
left running; a session this command starts is stopped at the end.
``SPARK_REMOTE=sc://host:15002`` runs the Spark part on a Spark Connect server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from examples import DEFAULT_URI, how_to_look, load_solution, spark_session

EXPERIMENT = "spark-llamaindex-rag"
DEFAULT_DOCS = "documents"
LLM_TYPES = ("mock", "ollama", "openai")
SHOWN_METRICS = (
    "source_retrieval_rate",
    "hit_rate_at_1",
    "hit_rate_at_3",
    "mrr",
    "answer_match_rate",
    "mean_answer_length",
    "num_questions",
)


# --- uv run mlflow-sample-documents -------------------------------------------------


def write_sample_documents(folder: Path) -> list[Path]:
    """Copy the sample documents (fixtures/corpus/*.md) into ``folder``; return the copies."""
    from fixtures.data import corpus_dir

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(corpus_dir().glob("*.md")):
        target = folder / source.name
        shutil.copyfile(source, target)
        written.append(target)
    return written


def sample_documents(argv: list[str] | None = None) -> int:
    """``uv run mlflow-sample-documents [--output DIR]``: write the sample documents."""
    parser = argparse.ArgumentParser(
        prog="mlflow-sample-documents",
        description="Write the kata's sample documents (markdown) to a folder.",
    )
    parser.add_argument(
        "--output", default=DEFAULT_DOCS, help=f"folder to write to (default ./{DEFAULT_DOCS})"
    )
    args = parser.parse_args(argv)
    folder = Path(args.output)
    written = write_sample_documents(folder)
    print(f"Wrote {len(written)} sample documents to {folder}/:")
    for path in written:
        print(f"  {path.name}")
    print()
    print("Next: uv run mlflow-spark-llamaindex-rag --llm-type mock --docs-path", folder)
    return 0


# --- uv run mlflow-spark-llamaindex-rag ---------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlflow-spark-llamaindex-rag",
        description="Spark loads and chunks documents, LlamaIndex answers questions over "
        "them, MLflow traces every query and records the RAG metrics.",
    )
    parser.add_argument("--llm-type", choices=LLM_TYPES, default="mock", help="default: mock")
    parser.add_argument(
        "--docs-path", default=DEFAULT_DOCS, help=f"the documents (default ./{DEFAULT_DOCS})"
    )
    parser.add_argument(
        "--create-sample-docs",
        action="store_true",
        help="write the sample documents to --docs-path first",
    )
    parser.add_argument("--ollama-model", default="llama3.2", help="default: llama3.2")
    parser.add_argument("--openai-model", default="gpt-4o-mini", help="default: gpt-4o-mini")
    parser.add_argument("--chunk-size", type=int, default=512, help="characters (default 512)")
    parser.add_argument("--chunk-overlap", type=int, default=50, help="characters (default 50)")
    parser.add_argument("--top-k", type=int, default=3, help="chunks retrieved (default 3)")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="try chunk sizes 256/512/1024 x overlaps 0/50/100 as child runs; keep the best",
    )
    parser.add_argument(
        "--sweep-sizes", type=_ints, default=None, help="chunk sizes for --sweep, e.g. 256,1024"
    )
    parser.add_argument(
        "--sweep-overlaps", type=_ints, default=None, help="overlaps for --sweep, e.g. 0,50"
    )
    return parser


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas: {text!r}"
        ) from None


class _Steps:
    """Numbered progress lines with timings."""

    def __init__(self, total: int):
        self.total = total
        self.done = 0

    @contextmanager
    def step(self, title: str) -> Iterator[dict[str, str]]:
        self.done += 1
        print(f"[{self.done}/{self.total}] {title} ...", flush=True)
        note: dict[str, str] = {}
        start = time.perf_counter()
        yield note
        extra = f": {note['result']}" if note.get("result") else ""
        print(f"      done in {time.perf_counter() - start:.1f} s{extra}", flush=True)


def load_pipeline() -> dict[str, ModuleType]:
    """The reference solutions of Module 5, shipped to Spark's workers by value."""
    modules = {
        name: load_solution(f"module_05/{name}.py")
        for name in (
            "ex02_spark_loading",
            "ex03_llamaindex_rag",
            "ex04_rag_metrics",
            "ex05_chunking_sweep",
        )
    }
    import pyspark.cloudpickle

    for module in modules.values():
        pyspark.cloudpickle.register_pickle_by_value(module)
    return modules


def _questions_for(docs: Path) -> list[dict]:
    """The sample questions whose source document is in ``docs`` (all of them if none is)."""
    from fixtures.data import load_questions

    questions = load_questions()
    present = {p.name for p in docs.rglob("*") if p.is_file()}
    mine = [q for q in questions if q["source"] in present]
    return mine or questions


def _asker(rag: ModuleType, engine: Any, total: int, show: bool) -> Callable[[str], dict[str, Any]]:
    count = {"n": 0}

    def ask(question: str) -> dict[str, Any]:
        result = rag.ask(engine, question)
        count["n"] += 1
        if show:
            answer = " ".join(result["answer"].split())
            print(f"      {count['n']:>2}/{total} {question}", flush=True)
            print(f"            -> {answer[:100]}{'...' if len(answer) > 100 else ''}")
            print(f"               sources: {', '.join(dict.fromkeys(result['sources']))}")
        return result

    return ask


def _model_of(args: argparse.Namespace) -> str | None:
    return {"ollama": args.ollama_model, "openai": args.openai_model}.get(args.llm_type)


def _run_once(
    spark: Any, steps: _Steps, pipeline: dict[str, ModuleType], args: argparse.Namespace
) -> dict[str, float]:
    loading = pipeline["ex02_spark_loading"]
    rag = pipeline["ex03_llamaindex_rag"]
    metrics = pipeline["ex04_rag_metrics"]
    docs = str(Path(args.docs_path).resolve())
    with steps.step(f"Loading and chunking {args.docs_path} with Spark") as note:
        chunks = loading.ingest_documents(spark, docs, args.chunk_size, args.chunk_overlap)
        note["result"] = f"{chunks.count()} chunks of {args.chunk_size} characters"
    with steps.step(f"Indexing the chunks with LlamaIndex ({args.llm_type} backend)") as note:
        nodes = rag.chunks_to_nodes(chunks)
        engine = rag.build_query_engine(nodes, args.llm_type, args.top_k, _model_of(args))
        note["result"] = f"{len(nodes)} nodes; autolog traces every query"
    questions = _questions_for(Path(args.docs_path))
    with steps.step(f"Asking {len(questions)} questions (top_k={args.top_k})"):
        ask = _asker(rag, engine, len(questions), show=True)
        return metrics.evaluate_rag(ask, questions)


def _sweep(
    spark: Any, steps: _Steps, pipeline: dict[str, ModuleType], args: argparse.Namespace
) -> dict[str, Any]:
    import mlflow

    loading = pipeline["ex02_spark_loading"]
    rag = pipeline["ex03_llamaindex_rag"]
    metrics = pipeline["ex04_rag_metrics"]
    sweep = pipeline["ex05_chunking_sweep"]
    docs = str(Path(args.docs_path).resolve())
    questions = _questions_for(Path(args.docs_path))

    def evaluate_config(chunk_size: int, chunk_overlap: int) -> dict[str, float]:
        with steps.step(f"chunk_size={chunk_size}, chunk_overlap={chunk_overlap}") as note:
            chunks = loading.ingest_documents(spark, docs, chunk_size, chunk_overlap)
            nodes = rag.chunks_to_nodes(chunks)
            engine = rag.build_query_engine(nodes, args.llm_type, args.top_k, _model_of(args))
            ask = _asker(rag, engine, len(questions), show=False)
            scores = metrics.evaluate_rag(ask, questions)
            note["result"] = (
                f"{len(nodes)} chunks, source_retrieval_rate="
                f"{scores['source_retrieval_rate']:.3f}, mrr={scores['mrr']:.3f}"
            )
        return scores

    grid = {}
    if args.sweep_sizes:
        grid["chunk_sizes"] = args.sweep_sizes
    if args.sweep_overlaps:
        grid["chunk_overlaps"] = args.sweep_overlaps
    mlflow.tracing.disable()  # 9 x the questions: no trace for each query of the sweep
    try:
        return sweep.sweep_chunking(evaluate_config, **grid)
    finally:
        mlflow.tracing.enable()


def _how_to_look(uri: str, experiment_id: str, sweep: bool) -> None:
    print()
    print("\n".join(how_to_look(uri, experiment_id)))
    if sweep:
        print("(Runs: expand 'chunking-sweep', select its children and click Compare.)")
    else:
        print("(Runs: params, metrics and the rag_results.json table; Traces: one per question,")
        print(" with the RETRIEVER span showing the chunks that were retrieved.)")


def main(argv: list[str] | None = None) -> int:
    """``uv run mlflow-spark-llamaindex-rag``: the plan's RAG example, end to end."""
    args = _parser().parse_args(argv)
    docs = Path(args.docs_path)
    if args.create_sample_docs:
        written = write_sample_documents(docs)
        print(f"Wrote {len(written)} sample documents to {docs}/", flush=True)
    if not docs.is_dir():
        print(
            f"No folder {docs}/. Run `uv run mlflow-sample-documents`, or add "
            "--create-sample-docs, or point --docs-path at your documents.",
            file=sys.stderr,
        )
        return 2

    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    print(f"Tracking to {uri} (set MLFLOW_TRACKING_URI to use another store)", flush=True)
    import mlflow

    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.set_experiment(EXPERIMENT).experiment_id
    pipeline = load_pipeline()

    total = 3
    if args.sweep:
        sizes = args.sweep_sizes or pipeline["ex05_chunking_sweep"].CHUNK_SIZES
        overlaps = args.sweep_overlaps or pipeline["ex05_chunking_sweep"].CHUNK_OVERLAPS
        total = sum(1 for size in sizes for overlap in overlaps if overlap < size)
    steps = _Steps(total=total)
    print("Starting Spark ...", flush=True)
    try:
        with spark_session("mlflow-spark-llamaindex-rag") as spark:
            if args.sweep:
                best = _sweep(spark, steps, pipeline, args)
                print()
                print(
                    f"Best: chunk_size={best['chunk_size']}, chunk_overlap="
                    f"{best['chunk_overlap']} (source_retrieval_rate="
                    f"{best['source_retrieval_rate']:.3f}), child run {best['run_id']}"
                )
                print(f"Parent run {best['parent_run_id']} ('chunking-sweep')")
            else:
                with mlflow.start_run(run_name=f"rag-{args.llm_type}") as run:
                    mlflow.log_params(
                        {
                            "llm_type": args.llm_type,
                            "model": _model_of(args) or "mock",
                            "top_k": args.top_k,
                        }
                    )
                    scores = _run_once(spark, steps, pipeline, args)
                print()
                print(f"Run {run.info.run_id} ('rag-{args.llm_type}'), metrics:")
                for key in SHOWN_METRICS:
                    print(f"  {key:<22} {scores[key]:.3f}")
    except Exception as err:  # noqa: BLE001 - one readable line instead of a traceback
        print(f"\nFailed: {type(err).__name__}: {err}", file=sys.stderr)
        if args.llm_type == "ollama":
            print(
                "Is Ollama running (`ollama serve`), with the model pulled "
                f"(`ollama pull {args.ollama_model}`)? It is looked for at OLLAMA_HOST "
                f"({os.environ.get('OLLAMA_HOST') or 'http://localhost:11434'}).",
                file=sys.stderr,
            )
        elif args.llm_type == "openai":
            print(
                "Is OPENAI_API_KEY set (and OPENAI_BASE_URL, for another endpoint)?",
                file=sys.stderr,
            )
        return 1
    mlflow.flush_trace_async_logging()  # traces are written in the background by default
    _how_to_look(uri, experiment_id, args.sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
