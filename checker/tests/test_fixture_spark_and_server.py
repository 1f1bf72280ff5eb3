"""The shared SparkSession and the real ``mlflow server`` of the test kit."""

import os
import sys

import mlflow
import requests

from fixtures.mlflow_server import MlflowServer

# Stands in for `mlflow server`: answers /health and, like it, starts a child process.
FAKE_SERVER = """
import http.server, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(child.pid, flush=True)

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


class FakeMlflowServer(MlflowServer):
    def command(self):
        return [sys.executable, "-c", FAKE_SERVER, str(self.port)]


def test_the_spark_session_is_local_and_runs_python_udfs(spark):
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([("a b",), ("c",)], ["text"])
    words = F.udf(lambda text: len(text.split()), "int")

    assert [r.n for r in frame.select(words("text").alias("n")).collect()] == [2, 1]
    assert spark.sparkContext.master == "local[2]"


def test_a_spark_test_is_grouped_on_one_xdist_worker(request, spark):
    groups = [m.args for m in request.node.iter_markers("xdist_group")]
    assert groups == [("spark",)]


def test_a_server_test_is_grouped_on_one_xdist_worker(request, mlflow_server):
    groups = [m.args for m in request.node.iter_markers("xdist_group")]
    assert ("mlflow_server",) in groups


def test_the_mlflow_server_answers_and_stores_runs(mlflow_server, mlflow_store):
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    experiment_id = client.create_experiment("kit-server-test")
    run = client.create_run(experiment_id)
    client.log_metric(run.info.run_id, "m", 1.0)

    assert requests.get(f"{mlflow_server.url}/health", timeout=5).text == "OK"
    assert client.get_run(run.info.run_id).data.metrics == {"m": 1.0}
    assert not mlflow_store.client().search_experiments(filter_string="name = 'kit-server-test'")


def test_stopping_the_server_stops_its_whole_process_group(tmp_path):
    server = FakeMlflowServer(tmp_path).start()
    group = server.process.pid
    child = int(server.log_file.read_text().split()[0])

    server.stop()

    assert not _running(group) and not _running(child)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap an orphan)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
