"""Run with an Airflow venv's python: load DAG folders into DagBags and print what Airflow made of them, as JSON.

    python dagbag_dump.py OUT.json FOLDER [FOLDER ...]   ->   OUT.json: {"airflow": "2.10.5", "bags": {FOLDER: {...}}}

One process parses every folder (Airflow's import costs seconds), so a test session pays for it once per
Airflow version. Nothing of bigflow is imported: the DAG files must parse with Airflow alone.
"""

from __future__ import annotations

import json
import sys
import time


def seconds(value):
    return None if value is None else value.total_seconds()


def secret(value):
    return {"deploy_type": value.deploy_type, "deploy_target": value.deploy_target, "secret": value.secret,
            "key": value.key}


def resources(value):
    if value is None:
        return None
    return {"requests": value.requests, "limits": value.limits}


def task_dump(task):
    data = {
        "operator": type(task).__name__,
        "retries": task.retries,
        "retry_delay": seconds(task.retry_delay),
        "execution_timeout": seconds(task.execution_timeout),
        "upstream": sorted(task.upstream_task_ids),
        "depends_on_past": task.depends_on_past,
        "owner": task.owner,
    }
    for name in ("image", "cmds", "arguments", "namespace", "service_account_name", "node_selector",
                 "config_file", "kubernetes_conn_id", "on_finish_action", "startup_timeout_seconds", "name",
                 "project_id", "location", "cluster_name", "gcp_conn_id", "bash_command", "cwd"):
        if hasattr(task, name):
            value = getattr(task, name)
            data[name] = getattr(value, "value", value)  # enums (on_finish_action) as their value
    if hasattr(task, "secrets"):
        data["secrets"] = [secret(s) for s in task.secrets]
    if hasattr(task, "container_resources"):
        data["container_resources"] = resources(task.container_resources)
    return data


def dag_dump(dag):
    timetable = dag.timetable
    return {
        "fileloc": dag.fileloc,
        "timetable": type(timetable).__name__,
        "cron": getattr(timetable, "expression", getattr(timetable, "_expression", None)),
        "delta": seconds(getattr(timetable, "delta", getattr(timetable, "_delta", None))),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tags": sorted(dag.tags),
        "owner": dag.owner,
        "doc_md": dag.doc_md,
        "tasks": {task.task_id: task_dump(task) for task in dag.tasks},
    }


def main(out, folders):
    started = time.perf_counter()
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag  # Airflow 2
    import airflow

    imported = time.perf_counter()
    bags = {}
    for folder in folders:
        begin = time.perf_counter()
        bag = DagBag(dag_folder=folder)
        bags[folder] = {
            "seconds": time.perf_counter() - begin,
            "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
            "dags": {dag_id: dag_dump(dag) for dag_id, dag in bag.dags.items()},
        }
    with open(out, "w") as file:  # not stdout: Airflow logs there
        json.dump({"airflow": airflow.__version__, "import_seconds": imported - started, "bags": bags}, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
