"""Integration: a Spark standalone master and worker on 127.0.0.1 (started with spark-class), a real job whose
executors import the test project's code from the shipped zip, and no JVM left afterwards."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bigflow_spark import PySparkJob
from bigflow_spark.process import stop_group

MASTER_PORT, MASTER_UI, WORKER_UI = 17077, 18580, 18581
MASTER = f"spark://127.0.0.1:{MASTER_PORT}"


def _master_state() -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{MASTER_UI}/json/", timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def _wait_for(what: str, condition, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not come up in {timeout}s; log {log}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def standalone_cluster(tmp_path, no_leftover_spark):
    """A master and a worker (2 cores, 2 GiB), no PYTHONPATH: executors see only what the job ships."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    assert _master_state() is None, f"port {MASTER_UI} is taken: another Spark master is running"
    environ = {key: os.environ[key] for key in ("PATH", "HOME", "JAVA_HOME", "BIGFLOW_SPARK_TESTS") if key in os.environ}
    environ.update(SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
                   SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false")
    spark_class = str(spark_home / "bin" / "spark-class")
    processes = []

    def start(name: str, *args: str) -> Path:
        log = tmp_path / f"{name}.log"
        with log.open("w") as output:
            processes.append(subprocess.Popen([spark_class, *args], env=environ, cwd=tmp_path, stdout=output,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True))
        return log

    try:
        log = start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", str(MASTER_PORT), "--webui-port", str(MASTER_UI))
        _wait_for("the Spark master", lambda: (_master_state() or {}).get("status") == "ALIVE", log)
        log = start("worker", "org.apache.spark.deploy.worker.Worker", MASTER, "--host", "127.0.0.1",
                    "--cores", "2", "--memory", "2g", "--webui-port", str(WORKER_UI),
                    "--work-dir", str(tmp_path / "work"))
        _wait_for("the Spark worker", lambda: (_master_state() or {}).get("aliveworkers", 0) >= 1, log)
        yield MASTER
    finally:
        for process in reversed(processes):
            stop_group(process)
    assert all(process.poll() is not None for process in processes)


def test_job_on_a_standalone_cluster_ships_the_project(in_project, context, standalone_cluster):
    from sparkdemo.drivers import cluster_report

    config = {"spark_master": standalone_cluster,
              "spark_conf": {"spark.executor.memory": "1g", "spark.cores.max": "2"}}
    report = PySparkJob("cluster_report", driver=cluster_report).execute(context("dev", config))
    assert report["master"] == MASTER
    assert report["top"] == [["the", 3]]
    assert report["imported_from"] and all(
        path.endswith(os.path.join("sparkdemo.zip", "sparkdemo", "words.py")) for path in report["imported_from"])
    apps = _master_state()["completedapps"]
    assert [(app["name"], app["state"]) for app in apps] == [("cluster_report", "FINISHED")]
