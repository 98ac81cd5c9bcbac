"""A driver given as a file: run as __main__ with sys.argv = [path, *driver_args]."""

import json
import sys

from pyspark.sql import SparkSession

from bigflow_spark import job_context

spark = SparkSession.builder.getOrCreate()
context = job_context()
output = sys.argv[1]
with open(output, "w") as file:
    json.dump({"argv": sys.argv[2:], "env": context.env, "rows": spark.range(7).count()}, file)
