"""Benchmarks of bigflow-spark (stdlib only): the starter's PySpark example run locally, against the same
aggregation in a hand-written SparkSession script.

Issue "bigflow-spark: PySpark jobs". BigFlow 1.x has no column here: its ``PySparkJob`` only ran on Dataproc
(a temporary cluster per job) and was removed in 1.5.0, so 1.11.3 has no Spark job to time.
"""

from __future__ import annotations

import textwrap

from bench import BenchError, Context, benchmark, starter_project_script

RUNTIME = "2024-05-06"
PACKAGE = "spark_bench"
EXPECTED = "country,orders,total\nDE,2,40.0\nFR,1,12.0\nPL,3,60.0\n"
OVERHEAD_TARGET_S = 3.0  # bigflow run (plugin discovery, workflow import, driver subprocess) over the hand script

WRITE_PROJECT = starter_project_script('bigflow_spark.starter:SparkStarter', 'spark_master = "local[*]"\n')

# The starter's aggregation with a SparkSession built by hand: what a user would run without bigflow.
HAND_SCRIPT = textwrap.dedent('''\
    import sys

    from pyspark.sql import SparkSession

    from {package}.spark_workflow import read_orders, totals_by_country

    spark = (SparkSession.builder.master("local[*]").appName("hand")
             .config("spark.ui.enabled", "false").getOrCreate())
    totals = totals_by_country(read_orders(spark))
    totals.coalesce(1).write.mode("overwrite").option("header", True).csv(sys.argv[1])
    print(totals.count())
    spark.stop()
''')


def _output(directory) -> str:
    parts = sorted(directory.glob("part-*.csv"))
    if len(parts) != 1:
        raise BenchError(f"expected one part-*.csv in {directory}, found {len(parts)}")
    return parts[0].read_text()


@benchmark("spark-local", title="PySpark example (starter) in local mode: bigflow run vs a hand-written SparkSession")
def spark_local(ctx: Context) -> None:
    """Wall time of `bigflow run --workflow spark_orders` on a project holding only the bigflow-spark starter
    (a local[*] Spark in a driver subprocess: JVM start, the groupBy aggregation of a small CSV, a CSV write),
    next to `python hand.py`: the same aggregation in a SparkSession built by hand in the same venv. The
    difference is PySparkJob's overhead (CLI and plugin start-up, workflow import, spec and subprocess). Each
    run starts a JVM (~10 s here), so this benchmark uses fewer runs than the default (see the table)."""
    project = ctx.workdir("project")
    ctx.run([ctx.dev.python, "-c", WRITE_PROJECT, str(project), PACKAGE])
    (project / "hand.py").write_text(HAND_SCRIPT.format(package=PACKAGE))
    bigflow_output = project / "build" / "output" / "spark_orders" / RUNTIME
    hand_output = project / "build" / "hand"
    env = {"SPARK_LOCAL_IP": "127.0.0.1"}
    ctx.reps, ctx.warmup = max(3, ctx.reps // 5), 1
    rows = ctx.compare([
        ctx.cmd("bigflow run --workflow spark_orders", ctx.dev, "bigflow", "run", "--workflow", "spark_orders",
                "--runtime", RUNTIME, "--log-format", "text", cwd=project, env=env),
        ctx.cmd("python hand.py (SparkSession by hand)", ctx.dev, "python", "hand.py", str(hand_output),
                cwd=project, env={**env, "PYTHONPATH": str(project)}),
    ], need_baseline=False)
    medians = {row.cmd.label.split(" ")[0]: row.stats.median for row in rows}
    overhead = medians["bigflow"] - medians["python"]
    ctx.check("both wrote the same totals", _output(bigflow_output) == EXPECTED == _output(hand_output),
              f"{bigflow_output} and {hand_output}")
    ctx.check(f"PySparkJob overhead <= {OVERHEAD_TARGET_S:g} s", overhead <= OVERHEAD_TARGET_S,
              f"median difference {overhead:.2f} s")
    ctx.note("No BigFlow 1.x column: 1.x's PySparkJob ran only on Dataproc and was removed in 1.5.0.")
