import importlib
import subprocess
import sys

from bigflow_spark import PySparkJob


def test_registered_as_a_compatible_plugin(bigflow_cli):
    records = {r["name"]: r for r in bigflow_cli("plugins", "list", "--json").json()}
    assert records["bigflow-spark"]["status"] == "installed"
    assert records["bigflow-spark"]["api"] == ">=1,<2"


def test_job_type_pyspark(bigflow_host):
    from bigflow.plugins import job_type

    assert job_type("pyspark") is PySparkJob


def test_1x_import_path():
    dataproc = importlib.import_module("bigflow.dataproc")
    assert dataproc.PySparkJob is PySparkJob
    assert dataproc.__all__ == ["PySparkJob", "job_context"]


def test_loading_the_plugin_imports_neither_spark_nor_google_clients():
    code = ("import sys; before = set(sys.modules); import bigflow_spark.plugin, bigflow_spark; "
            "print(sorted(m for m in set(sys.modules) - before if m.startswith(('pyspark', 'py4j', 'google'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
