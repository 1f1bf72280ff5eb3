"""What do MLflow's own calls cost inside a test? Not a test: a measurement.

    uv run python benchmarks/mlflow_calls.py [--repeat 5]

In one warm process (MLflow imported once, as in a check), on a fresh SQLite
store copied from the kata's template, with the tests' environment
(checker.isolation.TEST_ENV), the median time of each call, after a first call
that pays the one-time imports:

    store            a new store per test: copy the template, first query
    register_prompt  mlflow.genai.register_prompt of a one-variable template
    load_prompt      mlflow.genai.load_prompt by version
    trace (sync)     one traced call of three spans, exported synchronously (the tests)
    trace (async)    the same with async logging, then flush_trace_async_logging()
    search_traces    search_traces of one experiment (10 traces in it)
    log_model        pyfunc.log_model of a tiny PythonModel with pip_requirements given
    log_model (infer) the same, letting MLflow infer the requirements
    evaluate (8 rows) mlflow.genai.evaluate with one code scorer
    evaluate (skip)  the same with MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION=true

These are the per-call costs the kata's tests are built around; the lessons
learnt are in each module's tests (snapshots of set-up, fewer rows, requirements
given).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(repeat: int, setup: Callable[[], None], call: Callable[[], object]) -> float:
    """Median seconds of ``call`` over ``repeat`` runs, ``setup`` before each."""
    times = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from checker.isolation import TEST_ENV, reset_mlflow_state

    os.environ.update(TEST_ENV)
    import mlflow

    from checker.store import new_store, template_db

    cache = ROOT / ".kata" / "cache"
    template_db(cache)
    scratch = Path(tempfile.mkdtemp(prefix="kata-calls-"))
    counter = iter(range(10_000))

    def fresh_store() -> None:
        folder = scratch / f"store{next(counter)}"
        folder.mkdir()
        uri = new_store(folder, cache)
        os.environ["MLFLOW_TRACKING_URI"] = os.environ["MLFLOW_REGISTRY_URI"] = uri
        os.chdir(folder)
        reset_mlflow_state()

    @mlflow.trace(span_type="CHAIN")
    def pipeline(x: int) -> int:
        with mlflow.start_span("step", span_type="TOOL"):
            pass
        return helper(x)

    @mlflow.trace(span_type="LLM")
    def helper(x: int) -> int:
        return x + 1

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input: list[str]) -> list[str]:
            return model_input

    data = [{"inputs": {"x": n}, "expectations": {"y": n + 1}} for n in range(8)]

    @mlflow.genai.scorer
    def exact(outputs, expectations) -> bool:
        return outputs == expectations["y"]

    def log(requirements: bool) -> None:
        with mlflow.start_run():
            extra = {"pip_requirements": ["mlflow"]} if requirements else {}
            mlflow.pyfunc.log_model(name="echo", python_model=Echo(), **extra)

    def evaluate() -> None:
        mlflow.genai.evaluate(data=data, predict_fn=lambda x: x + 1, scorers=[exact])

    def async_trace() -> None:
        pipeline(1)
        mlflow.flush_trace_async_logging()

    def ten_traces() -> None:
        fresh_store()
        for n in range(10):
            pipeline(n)

    def with_prompt() -> None:
        fresh_store()
        mlflow.genai.register_prompt(name="p", template="Hello {{name}}")

    results: list[tuple[str, float]] = []

    def measure(label: str, setup: Callable[[], None], call: Callable[[], object]) -> None:
        setup()
        call()  # the first call of a process pays its imports
        results.append((label, timed(args.repeat, setup, call)))
        print(f"{label:<20} {results[-1][1] * 1000:8.1f} ms", flush=True)

    def store_and_search() -> None:
        fresh_store()
        mlflow.search_experiments()

    measure("store", lambda: None, store_and_search)
    measure("register_prompt", fresh_store, lambda: mlflow.genai.register_prompt(
        name="p", template="Hello {{name}}"))  # fmt: skip
    measure("load_prompt", with_prompt, lambda: mlflow.genai.load_prompt("prompts:/p/1"))
    measure("trace (sync)", fresh_store, lambda: pipeline(1))
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "true"
    mlflow.tracing.reset()
    measure("trace (async)", fresh_store, async_trace)
    mlflow.flush_trace_async_logging(terminate=True)
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    mlflow.tracing.reset()
    measure("search_traces", ten_traces, lambda: mlflow.search_traces(locations=["0"]))
    measure("log_model", fresh_store, lambda: log(requirements=True))
    measure("log_model (infer)", fresh_store, lambda: log(requirements=False))
    measure("evaluate (8 rows)", fresh_store, evaluate)
    os.environ["MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION"] = "true"
    measure("evaluate (skip)", fresh_store, evaluate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
