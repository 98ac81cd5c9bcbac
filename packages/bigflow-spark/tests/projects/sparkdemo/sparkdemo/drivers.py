"""PySparkJob drivers of the test project."""

import time

from sparkdemo.words import imported_from, tokenize

TEXT = ["the quick brown fox", "jumps over the lazy dog", "The dog barks"]


def count_words(spark, context, top=3):
    counts = (spark.sparkContext.parallelize(TEXT, 2).flatMap(tokenize).map(lambda w: (w, 1))
              .reduceByKey(lambda a, b: a + b).collect())
    ranked = sorted(counts, key=lambda kv: (-kv[1], kv[0]))[:top]
    return {"env": context.env, "runtime": context.runtime_str, "top": ranked,
            "partitions": spark.conf.get("spark.sql.shuffle.partitions")}


def executor_imports(spark, context):
    """Where executors import the project's code from."""
    return sorted(set(spark.sparkContext.parallelize(range(4), 2).map(imported_from).collect()))


def legacy_driver(context, greeting="hello"):
    """BigFlow 1.x style: driver(context, **driver_arguments); the session comes from getOrCreate()."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    return f"{greeting} {context.env} {spark.range(5).count()}"


def broken_driver(spark, context):
    rows = spark.range(3).collect()
    raise ValueError(f"bad input: {len(rows)} rows")


def broken_on_executor(spark, context):
    def check(value):
        if value == 2:
            raise KeyError(f"no such value {value}")
        return value

    return spark.sparkContext.parallelize(range(4), 2).map(check).collect()


def slow_driver(spark, context):
    time.sleep(600)


def cluster_report(spark, context):
    return {"master": spark.sparkContext.master, "top": count_words(spark, context, top=1)["top"],
            "imported_from": executor_imports(spark, context)}
