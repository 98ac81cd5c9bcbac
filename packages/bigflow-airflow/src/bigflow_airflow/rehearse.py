"""``bigflow airflow rehearse``: the DAG file of the build manifest, byte for byte, in a local Airflow 2.10 or 3.x,
with every pod operator task run as its pod in a container on the local Docker engine.

Steps: the workflow's ``dag`` artifact of the environment is read from ``build/manifest.json`` and its bytes are
checked against the recorded digest; the plugins start the local services the environment names (hook
``start_rehearsal_services``, e.g. bigflow-bigquery's emulator); the image it names is pulled from its registry;
a fresh Airflow home (``build/rehearsal/airflow<N>``, its database copied from a migrated template cached per
Airflow version) gets the file in ``dags/`` and ``rehearsal_pod.py`` as ``config/airflow_local_settings.py`` (the cluster policy that turns
pods into containers); ``rehearsal_runner.py`` runs ``airflow dags test`` for each logical date in one Airflow
process. The summary comes from Airflow's database (state, tries, duration) and the launcher's record
(container exit code, the job's one-line error). Every container of the rehearsal carries the label
``bigflow.rehearsal=<id>`` and is removed at the end, also on Ctrl-C.

Config keys: ``airflow<N>_bin`` / ``airflow_bin`` (the ``airflow`` executable of a venv with the cncf-kubernetes
provider; default: ``airflow`` on PATH).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bigflow.api import Artifact, BigflowError, Manifest, UsageError

HERE = Path(__file__).parent
WORK = Path("build") / "rehearsal"


@dataclass(frozen=True)
class TaskResult:
    """One task instance of a rehearsed run."""

    run: str  # logical date
    task_id: str
    state: str
    tries: int
    seconds: float | None
    exit_code: int | None
    image: str | None
    error: str | None


@dataclass
class Rehearsal:
    """One rehearsal: what runs where; ``results`` after ``run``."""

    dag: Artifact
    dag_file: Path
    airflow: Path
    major: int
    home: Path
    label: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    results: list[TaskResult] = field(default_factory=list)

    @property
    def record(self) -> Path:
        return self.home / "containers.jsonl"

    @property
    def deployed_file(self) -> Path:
        return self.home / "dags" / self.dag.name


def dag_artifact(manifest: Manifest, workflow_id: str, env: str) -> Artifact:
    """The manifest's DAG of ``workflow_id`` built for ``env``; a one-line error saying how to build it."""
    for artifact in manifest.of_kind("dag"):
        if artifact.details.get("workflow_id") == workflow_id and artifact.details.get("env") == env:
            return artifact
    known = sorted({a.details.get("workflow_id") for a in manifest.of_kind("dag") if a.details.get("env") == env})
    hint = f"its DAGs for {env!r}: {', '.join(known)}" if known else f"it has no DAGs for {env!r}"
    raise BigflowError(f"build/manifest.json has no DAG of workflow {workflow_id!r} for environment {env!r} ({hint}); "
                       f"run 'bigflow build dags --config {env}'")


def checked_bytes(root: Path, artifact: Artifact) -> bytes:
    """The DAG file's bytes, which must be those the build recorded (a rehearsal runs what deploy would upload)."""
    path = root / artifact.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BigflowError(f"{artifact.path} of build/manifest.json is missing; run 'bigflow build dags' again") from None
    if "sha256:" + hashlib.sha256(data).hexdigest() != artifact.digest:
        raise BigflowError(f"{artifact.path} differs from the file build/manifest.json records ({artifact.digest[:19]})"
                           "; rebuild it with 'bigflow build dags' instead of editing it")
    return data


def airflow_major(airflow: Path) -> int:
    """The major version of the Airflow installed in ``airflow``'s venv (read from its metadata, not imported)."""
    found = sorted(airflow.parent.parent.glob("lib/python3*/site-packages/apache_airflow-*.dist-info"))
    if not found:
        raise BigflowError(f"{airflow} is not the airflow of a venv with apache-airflow installed")
    return int(found[0].name.split("-")[1].split(".")[0])


def locate_airflow(values: Mapping[str, Any], env: str, major: int | None) -> tuple[Path, int]:
    """The ``airflow`` executable (``airflow<N>_bin``, ``airflow_bin``, PATH) and its major version."""
    from bigflow_airflow.local import INSTALL_HINT

    key = next((k for k in (f"airflow{major}_bin" if major else "", "airflow_bin") if k and values.get(k)), None)
    configured = os.path.expanduser(str(values[key])) if key else shutil.which("airflow")
    if not configured or not os.access(configured, os.X_OK):
        where = f"{key} = {values[key]!r} of environment {env!r} is not an executable" if key else \
            "Airflow is not installed (no 'airflow' on PATH)"
        raise BigflowError(f"{where}: {INSTALL_HINT}")
    airflow = Path(configured).absolute()
    found = airflow_major(airflow)
    if major and found != major:
        raise BigflowError(f"--airflow {major} asked for, but {airflow} is Airflow {found}; set airflow{major}_bin "
                           f"in environment {env!r} to an Airflow {major} venv's airflow")
    return airflow, found


def airflow_environ(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of the rehearsal's Airflow: its own home and SQLite database, no examples, no foreign venv."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("AIRFLOW")}
    environ.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
                   AIRFLOW__CORE__LOAD_EXAMPLES="False", PYTHONWARNINGS="ignore", **extra)
    return environ


def migrated_database(airflow: Path) -> Path:
    """A freshly migrated SQLite database of this Airflow, migrated once and cached per venv."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bigflow" / "rehearsal"
    venv = hashlib.sha256(str(airflow.parent.parent.resolve()).encode()).hexdigest()[:12]
    database = cache / f"airflow{airflow_major(airflow)}-{venv}.db"
    if database.exists():
        return database
    scratch = cache / f".migrate-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    print(f"Migrating a database for {airflow} (once per Airflow venv)", file=sys.stderr, flush=True)
    done = subprocess.run([str(airflow), "db", "migrate"], env=airflow_environ(scratch, {}), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BigflowError(f"airflow db migrate failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    (scratch / "airflow.db").replace(database)
    shutil.rmtree(scratch, ignore_errors=True)
    return database


def prepare(project: Any, env: str, workflow_id: str, major: int | None) -> Rehearsal:
    """Check the manifest's DAG file and lay out a fresh Airflow home with it and the cluster policy."""
    from bigflow_airflow.builder import resolve_environment

    env, values = resolve_environment(project, env)
    artifact = dag_artifact(Manifest.read(project.root), workflow_id, env)
    data = checked_bytes(project.root, artifact)
    airflow, major = locate_airflow(values, env, major)
    home = project.root / WORK / f"airflow{major}"
    shutil.rmtree(home, ignore_errors=True)
    (home / "dags").mkdir(parents=True)
    (home / "config").mkdir()
    shutil.copyfile(migrated_database(airflow), home / "airflow.db")
    shutil.copyfile(HERE / "rehearsal_pod.py", home / "config" / "airflow_local_settings.py")
    rehearsal = Rehearsal(artifact, project.root / artifact.path, airflow, major, home)
    rehearsal.deployed_file.write_bytes(data)
    return rehearsal


def start_services(project: Any, env: str) -> None:
    """Every plugin's services the environment points the jobs at (``start_rehearsal_services``), started here."""
    from bigflow.api import environment, hook

    for line in hook().start_rehearsal_services(environment=environment(env, project)):
        print(line, file=sys.stderr, flush=True)


def docker_cli() -> str:
    docker = shutil.which("docker")
    if docker is None:
        raise BigflowError("a rehearsal runs the pods with the docker CLI, which is not on PATH: install Docker")
    return docker


def pull(docker: str, image: str) -> None:
    """Pull the DAG's image from the registry the build pushed it to."""
    done = subprocess.run([docker, "pull", "--quiet", image], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BigflowError(f"cannot pull {image} ({reason}); push it first: bigflow deploy image")


def secrets_from(path: Path | None) -> dict[str, str]:
    """``NAME=value`` lines of a secrets file (``#`` comments and blank lines ignored)."""
    if path is None:
        return {}
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise BigflowError(f"{path}:{number} is not a NAME=value line")
        values[name.strip()] = value.strip()
    return values


def remove_containers(docker: str, label: str) -> None:
    """Remove every container of the rehearsal (running or not)."""
    listed = subprocess.run([docker, "ps", "--all", "--quiet", "--filter", f"label=bigflow.rehearsal={label}"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    ids = listed.stdout.split()
    if ids:
        subprocess.run([docker, "rm", "--force", *ids], capture_output=True, stdin=subprocess.DEVNULL)


def run(rehearsal: Rehearsal, dates: tuple[datetime, ...], secrets: Mapping[str, str]) -> list[TaskResult]:
    """Run the DAG for ``dates`` (one date, or a first and last date for every scheduled run between)."""
    docker = docker_cli()
    if rehearsal.dag.details.get("image"):
        pull(docker, rehearsal.dag.details["image"])
    environ = airflow_environ(rehearsal.home, {
        **secrets, "BIGFLOW_REHEARSAL_RECORD": str(rehearsal.record), "BIGFLOW_REHEARSAL_ID": rehearsal.label,
        "BIGFLOW_REHEARSAL_DOCKER": docker})
    argv = [str(rehearsal.airflow.parent / "python"), str(HERE / "rehearsal_runner.py"),
            rehearsal.dag.details["dag_id"], *(d.isoformat(sep=" ") for d in dates)]
    log = rehearsal.home / "airflow.log"
    print(f"Rehearsing {rehearsal.dag.path} on Airflow {rehearsal.major} ({rehearsal.airflow}); Airflow's log: {log}",
          file=sys.stderr, flush=True)
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=environ, cwd=rehearsal.home, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code = process.wait()
    except BaseException:  # Ctrl-C: stop Airflow (its tasks remove their containers), then sweep what is left
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        remove_containers(docker, rehearsal.label)
    if code != 0:
        last = (log.read_text(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise BigflowError(f"the rehearsal's Airflow exited with code {code}: {last} (log: {log})")
    rehearsal.results = results(rehearsal)
    return rehearsal.results


def results(rehearsal: Rehearsal) -> list[TaskResult]:
    """Every task instance of the rehearsed runs, with its container's exit code and error."""
    from bigflow_airflow.airflow_db import task_instances

    containers: dict[tuple[str, str], dict] = {}
    if rehearsal.record.exists():
        for line in rehearsal.record.read_text().splitlines():
            entry = json.loads(line)
            containers[(entry["run_id"], entry["task_id"])] = entry  # the last try's container
    found = []
    for ti in task_instances(rehearsal.home / "airflow.db", rehearsal.dag.details["dag_id"]):
        container = containers.get((ti["run_id"], ti["task_id"]), {})
        seconds = ti["seconds"] if ti["seconds"] is not None else container.get("seconds")  # a timeout sets none
        found.append(TaskResult(ti["run"], ti["task_id"], ti["state"], ti["tries"], seconds,
                                container.get("exit_code"), container.get("image"), container.get("error")))
    return found


def print_summary(rehearsal: Rehearsal, as_json: bool) -> None:
    from bigflow.api import print_table

    if as_json:
        print(json.dumps([r.__dict__ for r in rehearsal.results], indent=2))
        return
    rows = [(r.run, r.task_id, r.state, str(r.tries), "-" if r.seconds is None else f"{r.seconds:.2f}s",
             "-" if r.exit_code is None else str(r.exit_code), r.error or "") for r in rehearsal.results]
    title = f"{rehearsal.dag.details['workflow_id']} rehearsed on Airflow {rehearsal.major} " \
            f"(env {rehearsal.dag.details['env']}, image {rehearsal.dag.details.get('image') or '-'})"
    if not sys.stdout.isatty():
        print(title)
    print_table(title, ("Run", "Task", "State", "Tries", "Duration", "Exit code", "Error"), rows)


def failure(rehearsal: Rehearsal) -> BigflowError | None:
    """None when every task succeeded, else a one-line error naming the first job that failed with its own error
    (a non-zero exit), else the first failure (a timeout, a task that never ran)."""
    if not rehearsal.results:
        return BigflowError("Airflow created no task instance: is the runtime before the DAG's start_date? "
                            f"(see {rehearsal.deployed_file})")
    failed = [r for r in rehearsal.results if r.state != "success"]
    if not failed:
        return None
    first = next((r for r in failed if r.exit_code), next((r for r in failed if r.error), failed[0]))
    reason = first.error or ("never started: held by depends_on_past or an upstream task that never finished"
                             if first.state == "none" else f"state {first.state}")
    return BigflowError(f"{len(failed)} task(s) did not succeed; {first.task_id} of {first.run}: {reason}")


def rehearse(project: Any, workflow_id: str, env: str, major: int | None, runtime: str | None, first: str | None,
             last: str | None, secrets: Path | None, as_json: bool) -> None:
    """``bigflow airflow rehearse``: prepare, run, summarize; raises a one-line error when a task failed."""
    from bigflow.api import runtimes

    if runtime and (first or last):
        raise UsageError("give either --runtime or --from and --to, not both")
    if bool(first) != bool(last):
        raise UsageError("--from and --to go together")
    if first:
        dates = (runtimes.parse(first, "--from"), runtimes.parse(last, "--to"))
    else:
        dates = (runtimes.parse(runtime, "--runtime"),)
    dates = tuple(date.replace(microsecond=0) for date in dates)
    project.finder.find(workflow_id)  # an unknown id is refused (exit 2, the nearest id) before the manifest is read
    rehearsal = prepare(project, env, workflow_id, major)
    start_services(project, env)
    run(rehearsal, dates, secrets_from(secrets))
    print_summary(rehearsal, as_json)
    error = failure(rehearsal)
    if error:
        raise error
