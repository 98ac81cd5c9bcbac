"""Benchmarks of bigflow-bigquery (stdlib only): the embedded emulator's start, and the dataset API's
per-operation overhead over a bare google-cloud-bigquery call against the same emulator.

Issue "bigflow-bigquery: BigQuery jobs and datasets". BigFlow 1.x has no column here: it had no local
engine (every run needed a GCP project), and its dataset API does not import on Python 3.11.
"""

from __future__ import annotations

import json
import textwrap

from bench import Context, benchmark

START_TARGET_S = 3.0
OVERHEAD_TARGET_MS = 20.0
OPERATIONS = 40

START_STOP = ("from bigflow_bigquery import emulator\n"
              "emulator.stop(emulator.start())\n")

PYPROJECT = """\
[project]
name = "bq_bench"
version = "0.1.0"

[tool.bigflow]
package = "bq_bench"

[tool.bigflow.environments.local]
bigquery_endpoint = "emulator"
"""

# The same query, alternately through the dataset API and through the client it uses; per-pair differences.
OPERATIONS_SCRIPT = textwrap.dedent('''\
    import json, statistics, sys, time

    from bigflow_bigquery import DatasetConfig, engine

    n = int(sys.argv[1])
    dataset = DatasetConfig(env="local", project_id=None, dataset_name="bench",
                            internal_tables=["t"]).create_dataset_manager()
    sql = "SELECT 1 AS x"
    dataset.collect_list(sql).run("2024-01-01")  # starts the emulator, creates the dataset, warms the client
    (client,) = engine._clients.values()
    api, bare = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        rows = [dict(r) for r in dataset.collect_list(sql).run("2024-01-01")]
        t1 = time.perf_counter()
        same = [dict(r) for r in client.query(sql).result()]
        t2 = time.perf_counter()
        assert rows == same == [{"x": 1}], (rows, same)
        api.append(t1 - t0)
        bare.append(t2 - t1)
    print(json.dumps({"api_ms": statistics.median(api) * 1000, "bare_ms": statistics.median(bare) * 1000,
                      "overhead_ms": statistics.median(a - b for a, b in zip(api, bare)) * 1000}))
''')


@benchmark("bigquery-emulator", title="BigQuery emulator start, and the dataset API's overhead per operation")
def bigquery_emulator(ctx: Context) -> None:
    """The emulator row starts bqemulator (in memory, on 127.0.0.1), waits until it answers and stops it,
    in a fresh Python process (imports included): what the first BigQuery job of a local `bigflow run`
    pays. The overhead check runs `collect_list("SELECT 1 AS x").run(...)` and the same query through the
    bare google-cloud-bigquery client alternately, in one process against one emulator, and takes the
    median of the per-pair differences."""
    rows = ctx.compare([
        ctx.cmd("emulator start + stop (python)", ctx.dev, "python", "-c", START_STOP, target=START_TARGET_S),
    ], need_baseline=False)
    start = next(r for r in rows if r.cmd.role != "floor").stats.median
    ctx.check(f"emulator start <= {START_TARGET_S:g} s", start <= START_TARGET_S,
              f"median {start:.2f} s (start, wait until healthy, stop)")
    project = ctx.workdir("project")
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "bq_bench").mkdir(exist_ok=True)
    (project / "bq_bench" / "__init__.py").write_text("")
    done = ctx.run([ctx.dev.python, "-c", OPERATIONS_SCRIPT, str(OPERATIONS)], cwd=project)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ctx.check(f"dataset API overhead per operation <= {OVERHEAD_TARGET_MS:g} ms",
              result["overhead_ms"] <= OVERHEAD_TARGET_MS,
              f"median {result['overhead_ms']:.1f} ms per operation ({OPERATIONS} pairs: dataset API "
              f"{result['api_ms']:.1f} ms, bare client {result['bare_ms']:.1f} ms)")
    ctx.note("No BigFlow 1.x column: 1.x had no local BigQuery engine, and its dataset API does not import "
             "on Python 3.11.")
