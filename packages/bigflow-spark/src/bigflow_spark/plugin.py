"""Hook implementations of the bigflow-spark plugin (kept light: engine imports happen inside hooks)."""

from bigflow.api import hookimpl


@hookimpl
def register_job_types(register):
    from bigflow_spark.jobs import PySparkJob

    register("pyspark", PySparkJob)


@hookimpl
def register_starters(register):
    from bigflow_spark.starter import SparkStarter

    register("spark", SparkStarter())


@hookimpl
def register_settings(register):
    from bigflow_spark.settings import SETTINGS

    for setting in SETTINGS:
        register(setting.name, setting)
