"""The ``local-airflow`` deploy target and ``bigflow airflow test``: the project's workflows in a local Airflow.

The DAGs are rendered from the project's current sources with the ``bash`` renderer: every task runs this
installation's ``bigflow run --job WORKFLOW.JOB --runtime <logical date> --config <env>`` (absolute path) in
the project directory, so no image is involved and the build manifest is not used. They go to
``<dags folder>/<project>/`` of the local Airflow; stale files of the project are removed after the new ones
are written, other files are never touched.

Config keys: ``airflow_home`` (the target deploys only to environments that set it; ``bigflow airflow test``
falls back to ``$AIRFLOW_HOME``, else ``~/airflow``), ``airflow_bin`` (the ``airflow`` executable; default:
``airflow`` on PATH), ``bigflow_bin`` (default: the ``bigflow`` of this installation).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bigflow.api import BigflowError, Environment, Manifest, Plan, runtimes
from bigflow_airflow.builder import RenderedDag, render_dags, resolve_environment, write_replacing

INSTALL_HINT = ("install it in its own venv (python3 -m venv ~/airflow-venv && ~/airflow-venv/bin/pip install "
                "'apache-airflow==2.10.5'), then set airflow_bin = \"~/airflow-venv/bin/airflow\" in the "
                "environment's configuration or put it on PATH")


@dataclass(frozen=True)
class LocalAirflow:
    """Where the local Airflow lives and which executables the DAGs and commands use."""

    home: Path
    dags_folder: Path
    airflow: str
    bigflow: str

    def environ(self) -> dict[str, str]:
        """The environment for ``airflow`` commands: this Airflow's home, no example DAGs, no foreign venv."""
        environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        environ.update(AIRFLOW_HOME=str(self.home), AIRFLOW__CORE__DAGS_FOLDER=str(self.dags_folder))
        environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        return environ


def locate(values: Mapping[str, Any], env: str) -> LocalAirflow:
    """The local Airflow of ``env``; a one-line error saying how to install Airflow when it is missing."""
    home = Path(os.path.expanduser(str(values.get("airflow_home") or os.environ.get("AIRFLOW_HOME")
                                       or "~/airflow"))).resolve()
    dags_folder = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or home / "dags")
    configured = values.get("airflow_bin")
    airflow = os.path.expanduser(str(configured)) if configured else shutil.which("airflow")
    if not airflow or not os.access(airflow, os.X_OK):
        where = f"airflow_bin = {configured!r} of environment {env!r} is not an executable" if configured else \
            "Airflow is not installed (no 'airflow' on PATH)"
        raise BigflowError(f"{where}: {INSTALL_HINT}")
    bigflow = str(values.get("bigflow_bin") or Path(sys.executable).parent / "bigflow")
    if not os.access(bigflow, os.X_OK):
        raise BigflowError(f"{bigflow} is not an executable bigflow; set bigflow_bin in the environment's "
                           "configuration to the bigflow that should run the jobs")
    return LocalAirflow(home, dags_folder, str(Path(airflow).absolute()), str(Path(bigflow).absolute()))


def working_tree_version(root: Path) -> str:
    """The version for the DAG header: from git, else ``working tree`` (the jobs run it; git is not needed)."""
    from bigflow.api import project_version

    try:
        return project_version(root)
    except BigflowError:
        return "working tree"


def working_tree_start(root: Path) -> datetime:
    """The DAGs' default start: the commit time of HEAD as for ``bigflow build dags``, else today (UTC)."""
    from bigflow_airflow.builder import default_start_time

    try:
        return default_start_time(root)
    except BigflowError:
        return datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)


@dataclass
class LocalDeploy:
    """The rendered DAGs of a project for a local Airflow, and how they differ from what is there."""

    local: LocalAirflow
    folder: Path  # <dags folder>/<project>
    rendered: list[RenderedDag]
    plan: Plan

    def write(self) -> None:
        """Write the added and changed files (each whole, then renamed into place), then remove stale ones."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for dag in self.rendered:
            target = self.folder / dag.file_name
            if str(target) in self.plan.unchanged:
                continue
            write_replacing(target, dag.text.encode())  # Airflow never sees half a file
            forget_bytecode(target)
        for stale in self.plan.remove:
            Path(stale).unlink(missing_ok=True)
            forget_bytecode(Path(stale))


def forget_bytecode(dag_file: Path) -> None:
    """Remove the bytecode Airflow's import cached for ``dag_file``: Python trusts a .pyc whose source has the
    same size and mtime second, which a redeploy within the same second (1.0.0 -> 2.0.0) can have."""
    for cached in (dag_file.parent / "__pycache__").glob(f"{dag_file.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def prepare(project: Any, env: str | None, start_time: datetime | None = None) -> LocalDeploy:
    """Render the project's bash DAGs for the local Airflow of ``env`` and compare them with its folder."""
    env, values = resolve_environment(project, env)
    local = locate(values, env)
    rendered = render_dags(project, env, renderer_name="bash", version=working_tree_version(project.root),
                           start_time=start_time, default_start=working_tree_start,
                           extra={"bigflow": local.bigflow, "project_root": str(project.root)})
    folder = local.dags_folder / project.name
    present = {p.name: p.read_bytes() for p in folder.glob("*.py")} if folder.is_dir() else {}
    plan = Plan(LocalAirflowTarget.name,
                notes=[f"Airflow home {local.home}; jobs run {local.bigflow} in {project.root}"])
    for dag in rendered:
        target = str(folder / dag.file_name)
        old = present.get(dag.file_name)
        (plan.add if old is None else plan.unchanged if old == dag.text.encode() else plan.change).append(target)
    plan.remove = sorted(str(folder / name) for name in set(present) - {d.file_name for d in rendered})
    return LocalDeploy(local, folder, rendered, plan)


class LocalAirflowTarget:
    """Deploy target ``local-airflow``: BashOperator DAGs into the local Airflow's DAGs folder."""

    name = "local-airflow"

    def _skipped(self, project: Any, env: str) -> Plan | None:
        """A plan that does nothing when ``env`` does not name a local Airflow (``bigflow deploy`` without
        target names runs every target, and a production environment has no local Airflow)."""
        env, values = resolve_environment(project, env)
        if values.get("airflow_home"):
            return None
        return Plan(self.name, notes=[f"skipped: environment {env!r} sets no airflow_home; set it to deploy "
                                      "there (bigflow airflow deploy/test use $AIRFLOW_HOME or ~/airflow)"])

    options = ()

    def plan(self, project: Any, manifest: Manifest | None, env: Environment, options: Mapping[str, Any]) -> Plan:
        return self._skipped(project, env.name) or prepare(project, env.name).plan

    def deploy(self, project: Any, manifest: Manifest | None, env: Environment, options: Mapping[str, Any]) -> Plan:
        skipped = self._skipped(project, env.name)
        if skipped:
            return skipped
        deploy = prepare(project, env.name)
        deploy.write()
        return deploy.plan


def dags_test(project: Any, workflow_id: str, env: str | None, runtime: str | None, as_json: bool = False) -> None:
    """Deploy the project to the local Airflow and run ``airflow dags test`` on one workflow's DAG; with
    ``as_json`` Airflow's output goes to stderr and stdout gets the run's task instances as JSON."""
    moment = runtimes.parse(runtime, "--runtime").replace(microsecond=0)
    project.finder.find(workflow_id)  # an unknown id is refused (exit 2, the nearest id) before Airflow is looked for
    deploy = prepare(project, env, start_time=moment)  # starting at the runtime, a run of any past date has tasks
    by_workflow = {dag.spec.workflow_id: dag for dag in deploy.rendered}
    if workflow_id not in by_workflow:
        raise project.finder.unknown(workflow_id, sorted(by_workflow))
    deploy.write()
    dag_id = by_workflow[workflow_id].spec.dag_id
    local = deploy.local
    environ = local.environ()
    database = not any(k.endswith("SQL_ALCHEMY_CONN") for k in environ)
    if database and not (local.home / "airflow.db").exists():
        _airflow(local, environ, ["db", "migrate"], "airflow db migrate", sys.stderr)
    when = f"{moment.isoformat()}+00:00"
    _airflow(local, environ, ["dags", "test", dag_id, when], f"airflow dags test {dag_id}",
             sys.stderr if as_json else sys.stdout)
    if as_json:
        from bigflow_airflow.airflow_db import task_instances

        if not database:
            raise BigflowError("--json reads the local Airflow's SQLite database; this Airflow sets SQL_ALCHEMY_CONN")
        runs = [ti for ti in task_instances(local.home / "airflow.db", dag_id) if ti["run"] == str(moment)]
        print(json.dumps(runs, indent=2))


#: Airflow 2's ``dags test`` adds a stdout handler of this format to each task logger, which also propagates to
#: the console handler: every task log line would be printed twice. The copy in this format is dropped.
_DUPLICATE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] \{")


def _airflow(local: LocalAirflow, environ: dict[str, str], args: list[str], what: str, out: Any) -> None:
    print(f"$ {local.airflow} {' '.join(args)}", file=sys.stderr, flush=True)
    process = subprocess.Popen([local.airflow, *args], env=environ, cwd=local.home if local.home.is_dir() else None,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace")
    for line in process.stdout:
        if not _DUPLICATE.match(line):
            out.write(line)
            out.flush()
    if process.wait() != 0:
        raise BigflowError(f"{what} failed with exit code {process.returncode}; see its output above")
