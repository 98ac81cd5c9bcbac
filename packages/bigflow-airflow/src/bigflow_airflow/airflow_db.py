"""What a local Airflow's SQLite database says about a DAG's runs: one row per task instance, the same on
Airflow 2 (``dag_run.execution_date``) and 3 (``dag_run.logical_date``). Read with ``sqlite3``: no Airflow import."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def task_instances(database: Path, dag_id: str) -> list[dict]:
    """``{run_id, run (logical date, 'YYYY-MM-DD HH:MM:SS'), task_id, state, tries, seconds}`` per task instance,
    by logical date, then in the order the tasks started (those that never started last)."""
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        runs = {}
        for row in db.execute("select * from dag_run where dag_id = ?", (dag_id,)):
            runs[row["run_id"]] = str(row["logical_date"] if "logical_date" in row.keys() else row["execution_date"])
        rows = db.execute("select run_id, task_id, state, try_number, duration from task_instance where dag_id = ? "
                          "order by start_date is null, start_date, task_id", (dag_id,)).fetchall()
    found = [{"run_id": row["run_id"], "run": runs[row["run_id"]][:19], "task_id": row["task_id"],
              "state": row["state"] or "none", "tries": row["try_number"] or 0, "seconds": row["duration"]}
             for row in rows]
    return sorted(found, key=lambda r: r["run"])
