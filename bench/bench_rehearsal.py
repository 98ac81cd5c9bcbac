"""Benchmarks of ``bigflow airflow rehearse`` (stdlib only).

Issue "Rehearse production here", section "Speed":

- ``rehearse-overhead``: what a rehearsal adds per task over a plain ``docker run`` of the same command. A
  core-only project (``start-project`` without plugins) with two workflows, ``one`` (one job) and ``chain``
  (CHAIN jobs one after the other), each job ``bigflow run --job ...`` doing nothing; its image is built and
  pushed to a docker-registry on 127.0.0.1, its DAGs built for the environment ``rehearsal``. Timed side by
  side: ``docker run --rm --network host IMAGE run --job one.step_1 ...`` (the pod's command, by hand) and the
  rehearsals of ``one`` and ``chain`` on Airflow 2.10. The fixed costs of a rehearsal (Airflow's start, the
  DAG parse, the image-pinning task) are the same for both workflows, so per task:
  ``(chain - one) / (CHAIN - 1) - docker run``. Target: <= 2 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench import Cmd, Context, SetupError, benchmark

CHAIN = 6
OVERHEAD_TARGET_S = 2.0
CACHE = Path(os.environ.get("BIGFLOW_CACHE") or "/var/cache/bigflow-ci")
DOCKER_HOST = os.environ.get("DOCKER_HOST") or f"unix://{CACHE / 'docker' / 'docker.sock'}"
BASE_IMAGE = "local/python:3.11-bookworm"
REGISTRY_PORT = 15600
NAME = "bfbench_rehearse"

WORKFLOWS = f'''
from bigflow.workflow import Job, Workflow


class Step(Job):
    def execute(self, context):
        return self.id


one = Workflow("one", [Step("step_1", retry_count=0)], schedule_interval="@daily")
chain = Workflow("chain", [Step(f"step_{{i}}", retry_count=0) for i in range(1, {CHAIN + 1})],
                 schedule_interval="@daily")
'''


def _registry(work: Path) -> subprocess.Popen:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise SetupError("docker-registry is not installed: run bash scripts/setup")
    config = work / "registry.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {work}/registry"
                      f"\nhttp:\n  addr: 127.0.0.1:{REGISTRY_PORT}\n  secret: bench\n")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return process


def _project(ctx: Context, work: Path) -> Path:
    bigflow = ctx.dev.bin("bigflow")
    root = work / NAME
    shutil.rmtree(root, ignore_errors=True)
    ctx.run([bigflow, "start-project", NAME, "--no-input"], cwd=work, env={"BIGFLOW_LOAD_PLUGINS": ""})
    (root / NAME / "bench_workflows.py").write_text(WORKFLOWS)
    airflow = CACHE / "airflow2" / "bin" / "airflow"
    if not airflow.exists():
        raise SetupError(f"no Airflow 2 venv at {airflow.parent.parent}: run bash scripts/setup.d/60-airflow.sh")
    pyproject = root / "pyproject.toml"  # the scaffold's rehearsal environment, with the bench's registry
    header = "[tool.bigflow.environments.rehearsal]\n"
    pyproject.write_text(pyproject.read_text().replace(header, f'{header}docker_repository = "127.0.0.1:'
                                                       f'{REGISTRY_PORT}/{NAME.replace("_", "-")}"\n'
                                                       f'airflow2_bin = "{airflow}"\n', 1))
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b", "-c", "commit.gpgsign=false"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "bench"], ["tag", "1.0.0"]):
        ctx.run([*git, *command], cwd=root)
    env = {"DOCKER_HOST": DOCKER_HOST}
    ctx.run([bigflow, "build", "image", "--config", "rehearsal", "--base-image", BASE_IMAGE, "--quiet"], cwd=root,
            env=env)
    ctx.run([bigflow, "deploy", "image", "--config", "rehearsal"], cwd=root, env=env)
    ctx.run([bigflow, "build", "dags", "--config", "rehearsal", "--start-time", "2026-01-01"], cwd=root)
    return root


@benchmark("rehearse-overhead", title="bigflow airflow rehearse: overhead per task over a plain docker run")
def rehearse_overhead(ctx: Context) -> None:
    """See the module's doc: one job vs a chain of jobs rehearsed on Airflow 2.10, and the job's own docker run."""
    work = ctx.workdir()
    registry = _registry(work)
    try:
        root = _project(ctx, work)
        manifest = json.loads((root / "build" / "manifest.json").read_text())
        image = next(a["name"] for a in manifest["artifacts"] if a["kind"] == "image")
        env = {"DOCKER_HOST": DOCKER_HOST}
        bigflow = ctx.dev.bin("bigflow")
        rehearse = [bigflow, "airflow", "rehearse", "--config", "rehearsal", "--runtime", "2026-01-15", "--airflow", "2"]
        ctx.reps, ctx.warmup = max(3, ctx.reps // 5), 1
        rows = ctx.compare([
            Cmd("docker run of the pod's command (by hand)", ["docker", "run", "--rm", "--network", "host", image, "run",
                "--job", "one.step_1", "--runtime", "2026-01-15 00:00:00", "--config", "rehearsal", "--no-retries"],
                ctx.dev, env=env),
            Cmd("bigflow airflow rehearse one (1 task)", [*rehearse[:3], "one", *rehearse[3:]], ctx.dev, cwd=root,
                env=env),
            Cmd(f"bigflow airflow rehearse chain ({CHAIN} tasks)", [*rehearse[:3], "chain", *rehearse[3:]], ctx.dev,
                cwd=root, env=env),
        ], need_baseline=False)
    finally:
        registry.terminate()
        registry.wait(10)
    docker_run, one, chain = (row.stats.median for row in rows[1:])
    per_task = (chain - one) / (CHAIN - 1) - docker_run
    ctx.check(f"overhead per task <= {OVERHEAD_TARGET_S:g} s", per_task <= OVERHEAD_TARGET_S,
              f"{per_task:+.2f} s ((chain {chain:.2f} s - one {one:.2f} s) / {CHAIN - 1} - docker run {docker_run:.2f} s)")
    ctx.note(f"Fixed cost of a rehearsal of one task (Airflow start, DAG parse, pinning task, one container): "
             f"{one:.1f} s. No BigFlow 1.x row: 1.x has no rehearsal.")
