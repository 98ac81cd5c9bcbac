"""Benchmarks of bigflow-airflow (stdlib only): building DAG files, and what they cost Airflow to parse.

Issue "bigflow-airflow", section "Speed":

- ``dags-build``: ``bigflow build dags`` of a 500-workflow x 20-job project, side by side with BigFlow
  1.11.3's ``bigflow build-dags`` on the very same project (bench_core's generated 1.x-style project, plus a
  ``[tool.bigflow.environments.dev]`` table holding the same ``docker_repository`` that 1.x reads from
  ``setup.py``). Target: median <= 0.5 s.
- ``dags-parse``: Airflow's cost of parsing the generated files, on Airflow 2.10.5 and 3.3.x (the venvs of
  ``scripts/setup.d/60-airflow.sh``), against a floor: a hand-written minimal DAG file with the same 20
  KubernetesPodOperator tasks. Target: generated files <= 1.1x the floor on both versions.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import textwrap
from pathlib import Path

from bench import BenchError, Context, SetupError, Venv, benchmark

WORKFLOWS, JOBS = 500, 20
PARSE_FILES = 200  # files per DagBag fill in dags-parse (Airflow 3 parses ~100 files a second here)
REPOSITORY = "europe-west1-docker.pkg.dev/bench-project/bench/bfdags"
ENV_TABLE = f'\n[tool.bigflow.environments.dev]\ndocker_repository = "{REPOSITORY}"\n'

FLOOR_DAG = '''\
import datetime

try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

with DAG("{dag_id}", schedule="@daily", start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
         catchup=False):
    previous = None
    for i in range(1, {jobs} + 1):
        task = KubernetesPodOperator(task_id=f"job_{{i:02d}}", name=f"job-{{i:02d}}", image="{image}",
                                     cmds=["bigflow"], arguments=["run", "--job", f"{dag_id}.job_{{i:02d}}"])
        if previous is not None:
            previous >> task
        previous = task
'''

# Runs inside an Airflow venv: DagBag fills of each folder, interleaved round-robin, first round warm-up.
PARSE_SCRIPT = '''
import json, sys, time
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
folders, rounds, out = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names = list(folders)
result = {n: {"seconds": [], "dags": 0, "errors": 0, "error": ""} for n in names}
for r in range(rounds + 1):
    for name in names[r % len(names):] + names[:r % len(names)]:
        start = time.perf_counter()
        bag = DagBag(dag_folder=folders[name])
        seconds = time.perf_counter() - start
        if r:
            result[name]["seconds"].append(seconds)
        result[name].update(dags=len(bag.dags), errors=len(bag.import_errors),
                            error=str(next(iter(bag.import_errors.values()), ""))[-300:])
with open(out, "w") as f:
    json.dump(result, f)
'''


def project(ctx: Context) -> Path:
    """bench_core's 500 x 20 project (1.x layout) with the dev environment new bigflow needs."""
    from bench_core import make_project  # imported here: the harness loads bench_core itself, once

    root = make_project(ctx.workdir("project"), package="bfdags", workflows=WORKFLOWS, jobs=JOBS)
    pyproject = root / "pyproject.toml"
    if ENV_TABLE not in pyproject.read_text():
        pyproject.write_text(pyproject.read_text() + ENV_TABLE)
    return root


@benchmark("dags-build", title="`bigflow build dags`: 500 workflows x 20 jobs")
def dags_build(ctx: Context) -> None:
    """`bigflow build dags --config dev` of a 500-workflow project (20 no-op jobs each, chained), on a
    warm build directory (files whose bytes did not change are not rewritten), against BigFlow 1.11.3's
    `bigflow build-dags` of the same project (which rewrites its `.dags/` every time). Both import every
    workflow module, as they must to render every DAG. Target: median <= 0.5 s."""
    from bench_core import bf1_env

    root = project(ctx)
    ctx.run([ctx.dev.bin("bigflow"), "build", "dags", "--config", "dev"], cwd=root)
    built = sorted((root / "build" / "dags" / "dev").glob("*.py"))
    ctx.check("build dags wrote one DAG file per workflow", len(built) == WORKFLOWS, f"{len(built)} files")
    new = ctx.cmd("bigflow build dags --config dev", ctx.dev, "bigflow", "build", "dags", "--config", "dev",
                  cwd=root, target=0.5)
    old = ctx.cmd("BigFlow 1.11.3: bigflow build-dags", ctx.bf1, "bigflow", "build-dags", cwd=root,
                  env=bf1_env(ctx), role="baseline")
    ctx.compare([new, old])
    old_files = list((root / ".dags").glob("*_dag.py"))
    ctx.check("1.x build-dags wrote one DAG file per workflow", len(old_files) == WORKFLOWS, f"{len(old_files)}")


def airflow_venv(major: int) -> Venv:
    path = Path(os.environ.get("BIGFLOW_CACHE") or "/var/cache/bigflow-ci") / f"airflow{major}"
    if not (path / "bin" / "airflow").exists():
        raise SetupError(f"Airflow venv missing at {path}: run scripts/setup (scripts/setup.d/60-airflow.sh)")
    return Venv(f"airflow{major}", path)


def parse_folders(ctx: Context, root: Path) -> dict[str, Path]:
    """The same number of files in each folder: floor, generated by bigflow, generated by 1.x."""
    folders = {}
    floor = ctx.workdir("floor")
    for i in range(1, PARSE_FILES + 1):
        path = floor / f"floor_{i:04d}.py"
        text = FLOOR_DAG.format(dag_id=f"floor_{i:04d}", jobs=JOBS, image=f"{REPOSITORY}:1.0.0")
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    folders["floor"] = floor
    for name, source in (("bigflow", root / "build" / "dags" / "dev"), ("1.x", root / ".dags")):
        target = ctx.workdir(f"parse-{name}")
        shutil.rmtree(target)
        target.mkdir()
        for path in sorted(source.glob("*.py"))[:PARSE_FILES]:
            shutil.copyfile(path, target / path.name)
        folders[name] = target
    return folders


@benchmark("dags-parse", title="Airflow's parse cost of the generated DAG files (2.10.5 and 3.3.x)")
def dags_parse(ctx: Context) -> None:
    """DagBag fills of 200 DAG files of 20 tasks each, timed inside one Airflow process per version (the
    seconds Airflow spends importing itself are left out: they are the same for every folder), interleaved
    round-robin after a warm-up fill (which also writes the files' bytecode). The ratio of the fastest fills
    is shown too: on a loaded machine it is the steadier one. Floor: a hand-written minimal
    file with the same 20 KubernetesPodOperator tasks. bigflow's files also carry the image-pinning task
    (21 tasks), retries, timeouts and pod settings. Target: <= 1.1x the floor per file, on both versions."""
    from bench_core import bf1_env

    root = project(ctx)
    ctx.run([ctx.dev.bin("bigflow"), "build", "dags", "--config", "dev"], cwd=root)
    ctx.run([ctx.bf1.bin("bigflow"), "build-dags"], cwd=root, env=bf1_env(ctx))
    folders = parse_folders(ctx, root)
    rounds = max(5, ctx.reps // 2)
    rows = []
    for major in (2, 3):
        venv = airflow_venv(major)
        out = ctx.workdir() / f"parse-airflow{major}.json"
        home = ctx.workdir(f"airflow{major}-home")
        env = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "600", "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR"}
        ctx.run([venv.python, "-c", PARSE_SCRIPT, json.dumps({k: str(v) for k, v in folders.items()}),
                 str(rounds), str(out)], env=env)
        result = json.loads(out.read_text())
        per_file = {name: statistics.median(r["seconds"]) / PARSE_FILES for name, r in result.items()}
        best = {name: min(r["seconds"]) / PARSE_FILES for name, r in result.items()}
        version = venv.dist_versions(["apache-airflow"])["apache-airflow"]
        for name in ("floor", "bigflow"):
            r = result[name]
            ok = r["errors"] == 0 and r["dags"] == PARSE_FILES
            ctx.check(f"Airflow {version}: {name} files parse", ok, f"{r['dags']} DAGs, {r['errors']} import "
                      f"errors {r['error']}")
            if not ok:
                raise BenchError(f"Airflow {version} could not parse the {name} files: {r['error']}")
        ratio = per_file["bigflow"] / per_file["floor"]
        old = result["1.x"]
        old_cell = (f"{per_file['1.x'] * 1000:.1f} ms ({per_file['1.x'] / per_file['floor']:.2f}x)"
                    if old["errors"] == 0 else f"does not import ({old['errors']} of {PARSE_FILES} files fail)")
        rows.append(f"| {version} | {per_file['floor'] * 1000:.1f} ms | {per_file['bigflow'] * 1000:.1f} ms | "
                    f"{ratio:.2f}x | {'PASS' if ratio <= 1.1 else 'FAIL'} | {best['bigflow'] / best['floor']:.2f}x | "
                    f"{old_cell} |")
        ctx.check(f"Airflow {version}: bigflow's files <= 1.1x the floor", ratio <= 1.1, f"{ratio:.2f}x")
    ctx.note(textwrap.dedent(f"""\
        Median DagBag fill per file ({PARSE_FILES} files of {JOBS} jobs, {rounds} rounds after a warm-up):

        | Airflow | floor (minimal KPO file) | bigflow build dags | x floor | target <= 1.1x | x floor (fastest fills) | BigFlow 1.11.3 build-dags |
        |---|---|---|---|---|---|---|
        """) + "\n".join(rows))
