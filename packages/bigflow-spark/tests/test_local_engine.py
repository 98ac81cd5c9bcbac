"""The local engine end to end (a real Spark driver subprocess), and bad input: one line each, no Spark left."""

import json
import os
import re

import pytest

from bigflow.errors import BigflowError
from bigflow.project import find_project
from bigflow_spark import PySparkJob
from bigflow_spark.process import SparkJobTimeout

LOCAL = {"spark_master": "local[2]", "spark_conf": {"spark.sql.shuffle.partitions": 3}}


def test_driver_runs_in_a_subprocess_with_the_project_on_its_path(in_project, context, no_leftover_spark):
    from sparkdemo.drivers import count_words

    job = PySparkJob("count", driver=count_words, driver_args={"top": 2}, spark_conf={"spark.app.id": "x"})
    assert job.execute(context("local", LOCAL)) == {
        "env": "local", "runtime": "2024-03-01 06:30:00", "top": [["the", 3], ["dog", 2]], "partitions": "3"}


def test_driver_error_is_one_line_with_the_users_frame(in_project, bigflow_cli, no_leftover_spark):
    find_project.cache_clear()  # core caches the project of "the current directory" once per process
    result = bigflow_cli("run", "--workflow", "broken", "--log-format", "text")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "Spark session" not in result.stderr  # progress only on a terminal
    assert re.search(r"PySparkJob 'broken' failed: ValueError: bad input: 3 rows "
                     r"\(at sparkdemo/drivers\.py:\d+ in broken_driver\); --debug shows the traceback$", errors[0]), errors[0]


def test_a_run_on_a_terminal_shows_the_spark_session_starting(in_project, no_leftover_spark):
    import sys
    from pathlib import Path

    from bigflow.testing.terminal import on_a_terminal

    bigflow = str(Path(sys.executable).with_name("bigflow"))
    code, shown = on_a_terminal([bigflow, "run", "--workflow", "word_count", "--log-format", "text"], cwd=in_project)
    assert code == 0, shown
    assert "PySparkJob 'count_words': starting the Spark session" in shown and "0:00:" in shown, shown


def test_timeout_stops_every_spark_process(in_project, context, no_leftover_spark, one_line):
    from sparkdemo.drivers import slow_driver

    with pytest.raises(SparkJobTimeout) as raised:
        PySparkJob("slow", driver=slow_driver, execution_timeout_sec=3).execute(context("local", LOCAL))
    assert isinstance(raised.value, TimeoutError)
    assert one_line(raised.value) == ("PySparkJob 'slow' timed out after 3s (execution_timeout_sec); "
                                      "its Spark processes were stopped")


def test_java_missing_says_how_to_install_it(in_project, context, monkeypatch, tmp_path, no_leftover_spark,
                                             one_line):
    from sparkdemo.drivers import count_words

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on PATH
    with pytest.raises(BigflowError) as raised:
        PySparkJob("count", driver=count_words).execute(context("local", LOCAL))
    assert one_line(raised.value) == (
        "Java not found (PySpark needs Java 17+): install Java 17 (Debian/Ubuntu: apt-get install -y "
        "openjdk-17-jre-headless) or point JAVA_HOME at an installed JDK/JRE 17 or 21")


def test_java_home_without_java(in_project, context, monkeypatch, tmp_path):
    from sparkdemo.drivers import count_words

    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(BigflowError, match=rf"^Java not found: JAVA_HOME={tmp_path} has no bin/java; install"):
        PySparkJob("count", driver=count_words).execute(context("local", LOCAL))


def test_old_java_is_rejected(in_project, context, monkeypatch, tmp_path):
    from sparkdemo.drivers import count_words

    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n')
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(BigflowError, match=r"^Java 8 at .* is too old: Spark 4 needs Java 17\+"):
        PySparkJob("count", driver=count_words).execute(context("local", LOCAL))


@pytest.mark.parametrize(("release", "major"), [('JAVA_VERSION="1.8.0_392"', 8), ('JAVA_VERSION="21.0.2"', 21)])
def test_the_java_version_is_read_from_the_release_file_without_starting_java(monkeypatch, tmp_path, release, major):
    from bigflow_spark import java

    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path}/started\nexit 1\n")
    fake.chmod(0o755)
    (tmp_path / "release").write_text(f'IMPLEMENTOR="Debian"\n{release}\n')
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    java._java_home.cache_clear()
    try:
        if major < java.MIN_JAVA:
            with pytest.raises(BigflowError, match=rf"^Java 8 at {fake} is too old"):
                java.java_home()
        else:
            assert java.java_home() == tmp_path
    finally:
        java._java_home.cache_clear()
    assert not (tmp_path / "started").exists()


def test_driver_file_not_found(in_project, context, no_leftover_spark, one_line):
    with pytest.raises(BigflowError) as raised:
        PySparkJob("report", driver="sparkdemo/scripts/nope.py").execute(context("local", LOCAL))
    assert one_line(raised.value) == (
        f"PySparkJob 'report': driver file {in_project}/sparkdemo/scripts/nope.py not found "
        "(a relative path is resolved against the project root)")


def test_driver_file_runs_in_the_subprocess(in_project, context, tmp_path, no_leftover_spark):
    output = tmp_path / "out.json"
    job = PySparkJob("report", driver="sparkdemo/scripts/report.py", driver_args=[str(output), "x"])
    assert job.execute(context("dev", LOCAL)) is None
    assert json.loads(output.read_text()) == {"argv": ["x"], "env": "dev", "rows": 7}


def test_master_unreachable(in_project, context, no_leftover_spark, one_line):
    from sparkdemo.drivers import count_words

    with pytest.raises(BigflowError) as raised:
        PySparkJob("count", driver=count_words).execute(context("dev", {"spark_master": "spark://127.0.0.1:17099"}))
    assert one_line(raised.value) == ("Spark master spark://127.0.0.1:17099 is unreachable (Connection refused): "
                                      "start it, or set spark_master to a running master (or 'local[*]')")


def test_missing_pip_package_says_what_to_install(in_project, context, one_line):
    from sparkdemo.drivers import count_words

    job = PySparkJob("count", driver=count_words, pip_packages=["pyspark>=4", "no-such-package-xyz>=1.2"])
    with pytest.raises(BigflowError) as raised:
        job.execute(context("local", LOCAL))
    assert one_line(raised.value) == ("PySparkJob 'count' needs 'no-such-package-xyz>=1.2' (pip_packages) but it is "
                                      "not installed: pip install 'no-such-package-xyz>=1.2'")


def test_subprocess_gets_loopback_java_and_the_callers_path(in_project):
    from bigflow_spark.engines import LocalEngine
    from bigflow_spark.settings import read_settings

    environ = LocalEngine(read_settings({})).environ()
    assert environ["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert os.path.exists(os.path.join(environ["JAVA_HOME"], "bin", "java"))
    assert str(in_project) in environ["PYTHONPATH"].split(os.pathsep)
