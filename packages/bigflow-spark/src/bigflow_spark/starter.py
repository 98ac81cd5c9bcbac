"""Starter content for ``bigflow start-project``: an example PySpark workflow that runs offline in ``local``."""

from __future__ import annotations

from string import Template
from typing import Any

WORKFLOW = Template('''\
"""Example PySpark workflow: orders and total amount per country, from a CSV shipped with the package.

Run it offline:  bigflow run --workflow spark_orders
The engine comes from ``spark_master`` in the environment's configuration (a local Spark by default);
the output goes under ``output_dir`` (default build/output; a gs:// path on Dataproc).
"""

import csv
import io
from importlib import resources

from bigflow.api import Workflow
from bigflow_spark import PySparkJob


def read_orders(spark):
    """The orders of data/orders.csv (read through the package, so it works from the shipped zip too)."""
    text = resources.files("$package").joinpath("data/orders.csv").read_text()
    rows = [(row["country"], float(row["amount"])) for row in csv.DictReader(io.StringIO(text))]
    return spark.createDataFrame(rows, "country string, amount double")


def totals_by_country(orders):
    from pyspark.sql import functions as F

    return (orders.groupBy("country")
            .agg(F.count("*").alias("orders"), F.round(F.sum("amount"), 2).alias("total"))
            .orderBy("country"))


def aggregate_orders(spark, context):
    """The job's driver: write the totals as CSV to <output_dir>/spark_orders/<runtime date>."""
    output = f"{context.config.get('output_dir', 'build/output')}/spark_orders/{context.runtime:%Y-%m-%d}"
    totals = totals_by_country(read_orders(spark))
    totals.coalesce(1).write.mode("overwrite").option("header", True).csv(output)
    return {"output": output, "countries": totals.count()}


spark_orders = Workflow(
    workflow_id="spark_orders",
    definition=[PySparkJob("aggregate_orders", driver=aggregate_orders)],
)
''')

ORDERS = """\
order_id,country,amount
1,PL,20.00
2,DE,35.50
3,PL,15.25
4,FR,12.00
5,DE,4.50
6,PL,24.75
"""

TEST = Template('''\
from pyspark.sql import SparkSession

from $package.spark_workflow import read_orders, totals_by_country


def test_totals_by_country():
    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1").getOrCreate())
    try:
        totals = {row.country: (row.orders, row.total) for row in totals_by_country(read_orders(spark)).collect()}
    finally:
        spark.stop()
    assert totals == {"DE": (2, 40.0), "FR": (1, 12.0), "PL": (3, 60.0)}
''')


class SparkStarter:
    """Contributes ``<package>/spark_workflow.py``, its data file and its test, and Java in the image: the
    ``rehearsal`` environment (like ``local``) runs Spark inside it; Dataproc (``dev``, ``prod``) needs none."""

    system_packages = {"openjdk-17-jre-headless": "the rehearsal runs Spark jobs in the image (local[*]); "
                                                  "Dataproc needs no Java"}

    def files(self, context: dict[str, Any]) -> dict[str, str]:
        package = context["package"]
        return {
            f"{package}/spark_workflow.py": WORKFLOW.substitute(package=package),
            f"{package}/data/orders.csv": ORDERS,
            "tests/test_spark_workflow.py": TEST.substitute(package=package),
        }

    def environment_settings(self, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Local Spark for ``local``; Dataproc Serverless elsewhere (add ``dataproc_staging_location``)."""
        return {env: {"spark_master": "local[*]" if env == "local" else "dataproc"}
                for env in context.get("environments", ["local"])}
