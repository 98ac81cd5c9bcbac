"""Run with the rehearsal Airflow's python: ``airflow dags test`` of one DAG for each logical date, in ONE process
(importing Airflow and the pod operator costs seconds per command).

    python rehearsal_runner.py DAG_ID FIRST [LAST]

Without LAST, FIRST is the one logical date. With it, the logical dates are those the DAG's own timetable
schedules between FIRST and LAST (inclusive), as a catch-up would create them. Standard library and Airflow only:
``bigflow airflow rehearse`` runs this file from its installed package with the Airflow venv's interpreter.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

IDLE_LIMIT = 3  # seconds dag.test() may wait with nothing able to run before the run is given up


class Held(Exception):
    """No task of the run can ever start (depends_on_past on a failed earlier run): a scheduler would wait forever."""


def stop_when_held(sleep=time.sleep):
    """``time.sleep`` for this process: ``dag.test()`` (Airflow 2 and 3) sleeps 1 s per loop while tasks wait; when
    every waiting task is one that nothing will ever start (state None: not running, queued, up for retry or
    deferred) for IDLE_LIMIT loops in a row, the run is given up with ``Held`` instead of looping forever."""
    idle = 0

    def patient(seconds):
        nonlocal idle
        caller = sys._getframe(1)
        waiting = caller.f_locals.get("ids_unrunnable") if caller.f_code.co_name == "test" else None
        if waiting and all(ti.state is None for ti in waiting):
            idle += 1
            if idle >= IDLE_LIMIT:
                idle = 0
                raise Held(", ".join(sorted(ti.task_id for ti in waiting)))
        else:
            idle = 0
        sleep(seconds)

    return patient


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def scheduling_timetable(dag):
    """The timetable the scheduler uses: Airflow 3's DAG file holds the SDK's definition of it."""
    try:
        from airflow.serialization.decoders import decode_timetable  # Airflow 3
        from airflow.serialization.encoders import encode_timetable
    except ImportError:
        return dag.timetable
    return decode_timetable(encode_timetable(dag.timetable))


def scheduled_dates(dag_id: str, first: datetime, last: datetime) -> list[datetime]:
    from airflow.timetables.base import TimeRestriction

    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag
    timetable = scheduling_timetable(DagBag().get_dag(dag_id))
    dates, previous = [], None
    restriction = TimeRestriction(earliest=first, latest=last, catchup=True)
    while True:
        info = timetable.next_dagrun_info(last_automated_data_interval=previous, restriction=restriction)
        if info is None:
            return dates
        dates.append(info.logical_date)
        previous = info.data_interval


def tolerate_timeouts() -> None:
    """Airflow 2's ``dag.test()`` lets a task's ``AirflowTaskTimeout`` (a BaseException) end the whole command;
    a worker records the failure (done by then, retries included) and the scheduler goes on: so does this."""
    from airflow.exceptions import AirflowTaskTimeout
    from airflow.models import dag as dag_module

    run_task = getattr(dag_module, "_run_task", None)  # Airflow 2 only; Airflow 3's task runner handles it
    if run_task is None:
        return

    def run(**kwargs):
        try:
            run_task(**kwargs)
        except AirflowTaskTimeout as timeout:
            raise RuntimeError(f"AirflowTaskTimeout: {timeout}") from timeout

    dag_module._run_task = run


def main(dag_id: str, first: str, last: str | None = None) -> int:
    from airflow.cli import cli_parser

    dates = scheduled_dates(dag_id, parse(first), parse(last)) if last else [parse(first)]
    if not dates:
        print(f"no run of {dag_id} is scheduled between {first} and {last}", file=sys.stderr)
        return 2
    tolerate_timeouts()
    time.sleep = stop_when_held()
    parser = cli_parser.get_parser()
    for date in dates:
        print(f"bigflow-rehearsal: airflow dags test {dag_id} {date.isoformat()}", file=sys.stderr, flush=True)
        args = parser.parse_args(["dags", "test", dag_id, date.isoformat()])
        try:
            args.func(args)
        except SystemExit:  # a failed run: its state is in the database, the next date still runs
            pass
        except Held as held:
            print(f"bigflow-rehearsal: run of {date.isoformat()} held; never started: {held}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
