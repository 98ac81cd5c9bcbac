"""The driver program, in-process on the shared SparkSession: calling conventions, arguments, driver files,
and one-line errors that name the user's frame."""

import functools
import json

import pytest

from bigflow.errors import BigflowError
from bigflow_spark import PySparkJob, driver, job_context
from bigflow_spark.settings import read_settings
from bigflow_spark.spec import base_spec


def run_job(spark, job, context, config=None):
    """What the Spark driver process does with the spec the parent builds (but on the shared session)."""
    spec = json.loads(json.dumps(base_spec(job, context, read_settings(config or {}))))
    return driver.run(spec, spark=spark)


def module_level_driver(spark, context):
    return spark.range(4).count() * 10


def test_callable_gets_session_context_and_positional_args(spark, in_project, context):
    from sparkdemo.drivers import count_words

    job = PySparkJob("count", driver=count_words, driver_args=[2])
    spec = base_spec(job, context(), read_settings({}))
    assert spec["driver"] == {"callable": "sparkdemo.drivers:count_words"}
    outcome = driver.run(json.loads(json.dumps(spec)), spark=spark)
    assert outcome == {"ok": True, "value": {"env": "local", "runtime": "2024-03-01 06:30:00",
                                             "top": [["the", 3], ["dog", 2]], "partitions": "2"}}


def test_mapping_driver_args_are_keyword_arguments(spark, in_project, context):
    from sparkdemo.drivers import count_words

    outcome = run_job(spark, PySparkJob("count", driver=count_words, driver_args={"top": 1}), context("dev"))
    assert outcome["value"]["top"] == [["the", 3]] and outcome["value"]["env"] == "dev"


def test_1x_driver_takes_context_and_driver_arguments(spark, in_project, context):
    from sparkdemo.drivers import legacy_driver

    job = PySparkJob("legacy", driver=legacy_driver, driver_arguments={"greeting": "hi"})
    assert run_job(spark, job, context()) == {"ok": True, "value": "hi local 5"}
    job = PySparkJob("legacy", driver=functools.partial(legacy_driver, greeting="yo"))  # the 1.x template's way
    assert run_job(spark, job, context("dev")) == {"ok": True, "value": "yo dev 5"}


def test_lambda_and_test_module_functions_are_pickled_by_value(spark, context):
    spec = base_spec(PySparkJob("lambda", driver=lambda spark, context: context.run_id), context(),
                     read_settings({}))
    assert set(spec["driver"]) == {"pickle"}
    assert driver.run(spec, spark=spark)["value"] == "run123"
    assert run_job(spark, PySparkJob("f", driver=module_level_driver), context())["value"] == 40


def test_driver_file_runs_as_main_with_argv_and_job_context(spark, in_project, context, tmp_path):
    output = tmp_path / "report.json"
    job = PySparkJob("report", driver="sparkdemo/scripts/report.py", driver_args=[str(output), "a", 7])
    assert run_job(spark, job, context("dev")) == {"ok": True, "value": None}
    assert json.loads(output.read_text()) == {"argv": ["a", "7"], "env": "dev", "rows": 7}
    with pytest.raises(BigflowError, match=r"only available inside a PySparkJob driver"):
        job_context()


def test_driver_file_embedded_for_remote_runs(spark, in_project, context, tmp_path):
    output = tmp_path / "report.json"
    job = PySparkJob("report", driver="sparkdemo/scripts/report.py", driver_args=[str(output)])
    spec = base_spec(job, context(), read_settings({}), embed_source=True)
    assert "SparkSession.builder.getOrCreate()" in spec["driver"]["source"]
    assert driver.run(spec, spark=spark)["ok"] and json.loads(output.read_text())["rows"] == 7


def test_driver_file_exit_code_is_a_failure(spark, context, tmp_path):
    script = tmp_path / "exits.py"
    script.write_text("import sys\nsys.exit(0 if len(sys.argv) > 1 else 3)\n")
    assert run_job(spark, PySparkJob("ok", driver=str(script), driver_args=["x"]), context())["ok"]
    outcome = run_job(spark, PySparkJob("exits", driver=str(script)), context())
    assert outcome == {"ok": False, "error": "RuntimeError: driver file exited with code 3",
                       "frame": f"{script}:2 in <module>"}


def line_of(project, text):
    lines = (project / "sparkdemo/drivers.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_error_names_the_users_frame(spark, in_project, context):
    from sparkdemo.drivers import broken_driver

    outcome = run_job(spark, PySparkJob("broken", driver=broken_driver), context())
    assert outcome == {"ok": False, "error": "ValueError: bad input: 3 rows",
                       "frame": f"sparkdemo/drivers.py:{line_of(in_project, 'raise ValueError')} in broken_driver"}


def test_executor_error_names_the_users_frame(spark, in_project, context):
    from sparkdemo.drivers import broken_on_executor

    outcome = run_job(spark, PySparkJob("broken", driver=broken_on_executor), context())
    assert outcome == {"ok": False, "error": "KeyError: 'no such value 2'",
                       "frame": f"sparkdemo/drivers.py:{line_of(in_project, 'raise KeyError')} in check"}


def test_return_value_that_is_not_json_is_reported_as_repr(spark, context):
    outcome = run_job(spark, PySparkJob("df", driver=lambda spark, context: spark.range(1)), context())
    assert outcome == {"ok": True, "value": "DataFrame[id: bigint]"}
