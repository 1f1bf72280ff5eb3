"""Long-lived services on 127.0.0.1: a real ``mlflow server`` and a Spark Connect server.

    with MlflowServer(folder) as server:
        mlflow.set_tracking_uri(server.url)          # http://127.0.0.1:<port>

    with SparkConnectServer(folder) as server:
        SparkSession.builder.remote(server.remote).getOrCreate()   # sc://...;token=...

Each runs in its own process group, is stopped by its PID (the whole group), and
on Linux also stops when the process that started it dies, so a killed check
leaves nothing behind. The kit's ``mlflow_server`` and ``spark`` fixtures start
them once per test session; ``kata watch`` starts them once per watch session and
hands them to every check (``KATA_MLFLOW_SERVER``, ``KATA_SPARK_REMOTE``).

``python -m checker.services spark-connect PORT WAREHOUSE`` is the Spark Connect
server process itself: a local SparkSession with the Connect plugin.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

START_TIMEOUT = 180.0  # seconds; a quiet machine needs 5-15, a busy one far more

# A short test session's JVM finishes before its optimising compiler pays off:
# stopping at the first compiler tier and one GC thread cut its CPU time by a third.
QUICK_START_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1"


def local_spark_conf(warehouse: Path) -> dict[str, str]:
    """A ``local[2]`` session bound to loopback, without the UI, with few partitions,
    and a JVM tuned to start fast; Python workers run this interpreter."""
    return {
        "spark.master": "local[2]",
        "spark.ui.enabled": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.driver.extraJavaOptions": QUICK_START_JVM,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }


class ServiceError(RuntimeError):
    """A service did not start; the message says why and holds the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A server process of ours: started, waited for, stopped with its whole group."""

    name = "service"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def log_file(self) -> Path:
        return self.folder / f"{self.name.replace(' ', '-')}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        """True once the service answers."""
        raise NotImplementedError

    def start(self, timeout: float = START_TIMEOUT) -> Service:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.folder,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_stop_when_parent_dies,
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                self.stop()
                raise ServiceError(f"{self.name} exited at start:\n{self._log_tail()}")
            if self.ready():
                return
            time.sleep(0.2)
        self.stop()
        raise ServiceError(
            f"{self.name} did not answer within {timeout:g} s. The machine is probably busy "
            f"(a quiet one needs a few seconds): run the check again, or give it more time "
            f"with --timeout. The end of its log:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``timeout``.

        Returns once the service and every process it started have exited: its
        children get the signal too, but may outlive it by a moment.
        """
        process, self.process = self.process, None
        if process is None:
            return
        group = process.pid
        _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _group_alive(group, process) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(group, process):
            _signal_group(group, signal.SIGKILL)
            while _group_alive(group, process):
                time.sleep(0.05)
        process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class MlflowServer(Service):
    """A real ``mlflow server`` on a SQLite store in ``folder`` (copied from
    ``db_template`` when given, which skips the schema migration), with one uvicorn
    worker and the job runner off, so it answers ``/health`` in a few seconds."""

    name = "mlflow server"

    def __init__(
        self, folder: Path, db_template: Path | None = None, workspaces: bool = False
    ) -> None:
        super().__init__(folder)
        self.db_template = db_template
        self.workspaces = workspaces  # --enable-workspaces: one server, private corners

    @classmethod
    def attach(cls, url: str) -> MlflowServer:
        """A server that is already running at ``url`` (started by someone else)."""
        server = cls(Path("."))
        server.port = int(url.rstrip("/").rsplit(":", 1)[1])
        return server

    @property
    def url(self) -> str:
        """The tracking URI of the server: ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{self.folder / 'server.db'}",
            "--default-artifact-root", (self.folder / "artifacts").as_uri(),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1",
            *(["--enable-workspaces"] if self.workspaces else []),
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
        env.update(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", MLFLOW_DISABLE_TELEMETRY="true")
        return env

    def start(self, timeout: float = START_TIMEOUT) -> MlflowServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.db_template is not None:
            shutil.copyfile(self.db_template, self.folder / "server.db")
        super().start(timeout)
        return self

    def ready(self) -> bool:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{self.url}/health", timeout=2) as response,
        ):
            return response.status == 200
        return False


ONLINE_SCORING_BUFFER = "MLFLOW_ONLINE_SCORING_DEFAULT_TRACE_COMPLETION_BUFFER_SECONDS"

GATEWAY_ENV = {
    # the fake LLM server is plain http on 127.0.0.1: both refused by default
    "MLFLOW_GATEWAY_API_BASE_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_GATEWAY_API_BASE_ALLOW_PRIVATE_IPS": "true",
    # the key that encrypts the gateway's secrets (else a built-in one, with a warning)
    "MLFLOW_CRYPTO_KEK_PASSPHRASE": "kata-local-only-passphrase",
    # the job runner: the scheduler of production monitoring. The executor engine runs it
    # in 2 processes (the default starts 8 Python processes, a minute of CPU to start)
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true",
    "MLFLOW_SERVER_JOB_EXECUTION_ENGINE": "executor",
    # judge a trace as soon as it is logged (by default one younger than 5 minutes waits)
    ONLINE_SCORING_BUFFER: "0",
}


class GatewayMlflowServer(MlflowServer):
    """An ``mlflow server`` with the AI Gateway open to 127.0.0.1 and the job runner on
    (module 7's gateway and monitoring tests; the kit's helpers are in
    fixtures/gateway_server.py)."""

    name = "mlflow server (gateway, jobs)"

    def __init__(self, folder: Path, db_template: Path | None = None) -> None:
        super().__init__(folder, db_template)
        self.attached_group: int | None = None  # the process group of a server handed over
        self.judge = "judge"  # the judge endpoint a test session made on it (the kit's)

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.update(GATEWAY_ENV)
        return env

    @property
    def store_uri(self) -> str:
        """The server's backend store (SQLite), for server-side helpers."""
        return f"sqlite:///{self.folder / 'server.db'}"

    @property
    def group(self) -> int | None:
        """The server's process group (its job runner's processes are in it)."""
        return self.process.pid if self.process is not None else self.attached_group

    def handover(self) -> str:
        """What another process needs to use this running server: see ``take_over``."""
        return json.dumps({"url": self.url, "folder": str(self.folder), "group": self.group})

    @classmethod
    def take_over(cls, handover: str) -> GatewayMlflowServer:
        """The running server that ``handover`` describes (started by ``kata watch``)."""
        described = json.loads(handover)
        server = cls(Path(described["folder"]))
        server.port = int(described["url"].rstrip("/").rsplit(":", 1)[1])
        server.attached_group = described["group"]
        return server


DRIVER_ONLY_PREFIXES = ("OPENAI_", "OLLAMA_", "AZURE_OPENAI_", "ANTHROPIC_")


class SparkConnectServer(Service):
    """A local Spark Connect server (``local[2]`` with the Connect plugin) on 127.0.0.1,
    which asks every client for its token."""

    name = "spark connect server"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.token = uuid.uuid4().hex

    @property
    def remote(self) -> str:
        """What ``SparkSession.builder.remote(...)`` and ``SPARK_REMOTE`` take."""
        # "localhost": the client sends a token over a local channel, TLS elsewhere.
        return f"sc://localhost:{self.port}/;token={self.token}"

    def command(self) -> list[str]:
        warehouse = str(self.folder / "warehouse")
        return [
            sys.executable,
            "-m",
            "checker.services",
            "spark-connect",
            str(self.port),
            warehouse,
        ]

    def environment(self) -> dict[str, str]:
        # A cluster's Python workers do not see the driver's model endpoints and keys:
        # code must send them (the server outlives each check's fake LLM server, too).
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")
            and not k.startswith(DRIVER_ONLY_PREFIXES)
        }
        env.update(
            SPARK_CONNECT_AUTHENTICATE_TOKEN=self.token,
            SPARK_LOCAL_IP="127.0.0.1",
            PYSPARK_PYTHON=sys.executable,
            PYSPARK_DRIVER_PYTHON=sys.executable,
            PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent), *sys.path]),
        )
        return env

    def ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return "ready" in self.log_file.read_text(errors="replace")
        return False


class WatchServices:
    """The servers one ``kata watch`` session keeps running for all its checks.

    A check whose tests use the ``mlflow_server`` fixture gets ``KATA_MLFLOW_SERVER``
    (a server with workspaces: each check works in a new one); one whose tests use
    ``gateway_mlflow_server`` gets ``KATA_GATEWAY_SERVER`` (the gateway and job-runner
    server: each check makes endpoints and experiments of its own); a check whose tests
    use ``spark`` gets ``KATA_SPARK_REMOTE`` (a Spark Connect server, so a check skips
    the JVM start). Each is started the first time a check needs it.
    """

    def __init__(self, folder: Path, db_template: Path | None = None) -> None:
        self.folder = Path(folder)
        self.db_template = db_template
        self.mlflow: MlflowServer | None = None
        self.gateway: GatewayMlflowServer | None = None
        self.spark: SparkConnectServer | None = None

    @staticmethod
    def needed_by(test_source: str) -> set[str]:
        """The services a test file's fixtures ask for."""
        needs = set()
        if re.search(r"\bmlflow_server\b", test_source):
            needs.add("mlflow_server")
        if re.search(r"\bgateway_mlflow_server\b", test_source):
            needs.add("gateway_mlflow_server")
        if re.search(r"def \w+\([^)]*\bspark\b", test_source):
            needs.add("spark")
        return needs

    def environment_for(self, test_file: Path) -> dict[str, str]:
        """Start what ``test_file`` needs (once); the variables that hand it to a check."""
        needs = self.needed_by(test_file.read_text(encoding="utf-8"))
        env = {}
        if "mlflow_server" in needs:
            if self.mlflow is None:
                server = MlflowServer(self.folder / "mlflow-server", self.db_template, True)
                self.mlflow = server.start()
            env["KATA_MLFLOW_SERVER"] = self.mlflow.url
        if "gateway_mlflow_server" in needs:
            if self.gateway is None:
                gateway = GatewayMlflowServer(self.folder / "gateway-server", self.db_template)
                gateway.start()
                self.gateway = gateway
            env["KATA_GATEWAY_SERVER"] = self.gateway.handover()
        if "spark" in needs:
            if self.spark is None:
                spark = SparkConnectServer(self.folder / "spark-connect")
                spark.start()
                self.spark = spark
            env["KATA_SPARK_REMOTE"] = self.spark.remote
        return env

    def stop(self) -> None:
        for service in (self.mlflow, self.gateway, self.spark):
            if service is not None:
                service.stop()
        self.mlflow = self.gateway = self.spark = None


def serve_spark_connect(port: int, warehouse: Path) -> None:
    """The Spark Connect server process: a local session with the Connect plugin, kept
    until SIGTERM."""
    # Its Python workers run this interpreter, bound to loopback (see fixtures/spark.py).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("kata-spark-connect")
    conf = local_spark_conf(warehouse)
    conf.update(
        {
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.connect.authenticate.token": os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"],
        }
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    print(f"spark connect server ready on 127.0.0.1:{port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    session.stop()


def _stop_when_parent_dies() -> None:
    """Linux only: the service gets SIGTERM when the process that started it dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def _group_alive(group: int, leader: subprocess.Popen) -> bool:
    """True while the leader or any process of its group still runs (zombies do not count)."""
    if leader.poll() is None:
        return True
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel whether the group still exists
        try:
            os.killpg(group, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            return True
    return False


if __name__ == "__main__":
    if sys.argv[1:2] == ["spark-connect"]:
        serve_spark_connect(int(sys.argv[2]), Path(sys.argv[3]))
