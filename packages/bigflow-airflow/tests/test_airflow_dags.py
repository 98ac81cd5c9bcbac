"""Generated DAG files loaded by real Airflow 2.10.5 and 3.3.x (one DagBag process per version, both at once):
zero import errors, and tasks, dependencies, retries, timeouts, schedules and pod settings read back from the
DAG objects Airflow built."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import airflow_venvs
import pytest
from airflow_scenarios import CRONS, STRICTER, scenarios, starter_project

from bigflow.schedules import check_cron

RUNTIME = "{{ (logical_date or dag_run.run_after).strftime('%Y-%m-%d %H:%M:%S') }}"
PIN = "{{ ti.xcom_pull(task_ids='bigflow-image') }}"


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> tuple[Path, list[dict]]:
    return starter_project(tmp_path_factory.mktemp("starter"))


@pytest.fixture(scope="module")
def bags(tmp_path_factory, starter) -> dict[int, dict]:
    root = tmp_path_factory.mktemp("dag-scenarios")
    folders = {**scenarios(root, bigflow="/opt/bigflow/bin/bigflow"), "starter": starter[0]}
    return airflow_venvs.dagbags(root, folders)


@pytest.fixture(params=[2, 3], ids=["airflow2", "airflow3"])
def bag(request, bags) -> dict:
    return bags[request.param]


def test_the_pinned_airflow_versions_loaded_the_files(bags):
    assert bags[2]["airflow"] == airflow_venvs.VERSIONS[2]
    assert bags[3]["airflow"].startswith("3.3.")


@pytest.mark.parametrize("scenario", ["starter", "example", "options", "gke", "schedules", "bash"])
def test_generated_files_import_without_errors(bag, scenario):
    assert bag[scenario]["import_errors"] == {}
    assert bag[scenario]["dags"]


def test_the_starter_project_of_bigflow_start_project(bag, starter):
    """Every example workflow the installed plugins put into a new project becomes a DAG with its jobs."""
    dags = bag["starter"]["dags"]
    workflows = starter[1]
    assert sorted(dags) == sorted(w["workflow_id"] for w in workflows)
    for workflow in workflows:
        tasks = dags[workflow["workflow_id"]]["tasks"]
        assert set(tasks) == {"bigflow-image", *workflow["jobs"]}
        seen = {"bigflow-image"}
        for job in workflow["jobs"]:  # listed in topological order: upstream tasks come first
            assert set(tasks[job]["upstream"]) <= seen and tasks[job]["upstream"]
            assert tasks[job]["arguments"][2] == f"{workflow['workflow_id']}.{job}"
            seen.add(job)


def test_example_project_dags(bag):
    dags = bag["example"]["dags"]
    assert set(dags) == {"hello_world", "etl"}
    etl = dags["etl"]
    assert (etl["timetable"], etl["cron"]) == ("CronDataIntervalTimetable", "0 3 * * *")
    assert etl["start_date"] == "2024-02-29T00:00:00+00:00"  # daily_start_time(2024-03-01 06:00)
    assert (etl["catchup"], etl["max_active_runs"], etl["tags"]) == (False, 1, ["example"])
    tasks = etl["tasks"]
    assert {t: tasks[t]["upstream"] for t in tasks} == {
        "bigflow-image": [], "extract": ["bigflow-image"], "transform": ["extract"], "load": ["transform"]}
    assert tasks["bigflow-image"]["operator"] == "PythonOperator"
    transform = tasks["transform"]
    assert transform["operator"] == "KubernetesPodOperator"
    assert (transform["retries"], transform["retry_delay"], transform["execution_timeout"]) == (5, 30.0, 10800.0)
    assert (tasks["load"]["retries"], tasks["load"]["retry_delay"]) == (3, 60.0)
    assert transform["depends_on_past"] is False
    assert transform["image"] == PIN
    assert transform["cmds"] == ["bigflow"]
    assert transform["arguments"] == ["run", "--job", "etl.transform", "--runtime", RUNTIME, "--config", "dev",
                                      "--no-retries"]  # Airflow retries, not bigflow inside the pod
    assert transform["namespace"] == "composer-user-workloads"
    assert transform["on_finish_action"] == "delete_pod"
    assert dags["hello_world"]["tasks"]["say_hello"]["depends_on_past"] is True  # the 1.x default
    assert dags["hello_world"]["cron"] == "0 0 * * *"  # @daily


def test_a_workflow_using_every_option(bag):
    dags = bag["options"]["dags"]
    assert list(dags) == ["shop.everything"]  # dag_id_prefix + workflow id: stable across versions
    dag = dags["shop.everything"]
    assert (dag["timetable"], dag["cron"]) == ("CronDataIntervalTimetable", "30 2 * * mon-fri")
    assert dag["start_date"] == "2024-02-23T02:30:00+00:00"  # the workflow's start_time_factory
    assert (dag["catchup"], dag["max_active_runs"]) == (True, 3)
    assert dag["tags"] == ["bigflow", "daily", "finance", "shop"]
    assert dag["owner"] == "data-team"  # the workflow's owner wins over dag_owner
    assert dag["doc_md"] == "Loads **everything**."
    tasks = dag["tasks"]
    assert {t: tasks[t]["upstream"] for t in tasks} == {
        "bigflow-image": [], "extract": ["bigflow-image"], "clean_data": ["extract"], "load": ["extract"],
        "report-v2": ["clean_data", "load"]}
    expected = {"extract": (5, 30.0, 600.0), "clean_data": (3, 60.0, 10800.0), "load": (0, 60.0, 10800.0),
                "report-v2": (3, 0.0, 7200.0)}
    assert {t: (tasks[t]["retries"], tasks[t]["retry_delay"], tasks[t]["execution_timeout"])
            for t in expected} == expected
    clean = tasks["clean_data"]
    assert clean["name"] == "clean-data"  # a pod name Kubernetes accepts
    assert clean["depends_on_past"] is False
    assert clean["cmds"] == ["python", "-m", "bigflow"]
    assert clean["arguments"][:3] == ["run", "--job", "everything.clean_data"]
    assert clean["arguments"][-3:] == ["--config", "prod", "--no-retries"]
    assert (clean["namespace"], clean["service_account_name"]) == ("etl", "etl-runner")
    assert clean["container_resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"},
                                            "limits": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "10Gi"}}
    assert clean["node_selector"] == {"cloud.google.com/gke-nodepool": "etl"}
    assert clean["config_file"] == "/home/airflow/composer_kube_config"
    assert clean["kubernetes_conn_id"] == "kubernetes_default"
    assert clean["startup_timeout_seconds"] == 900
    assert clean["secrets"] == [  # 1.x's mapping; the provider upper-cases the variable name
        {"deploy_type": "env", "deploy_target": "BF_DB_PASSWORD", "secret": "bf-db-password", "key": "bf_db_password"},
        {"deploy_type": "env", "deploy_target": "API_TOKEN", "secret": "api-token", "key": "API_TOKEN"},
    ]


def test_gke_operator(bag):
    tasks = bag["gke"]["dags"]["everything"]["tasks"]
    clean = tasks["clean_data"]
    assert clean["operator"] == "GKEStartPodOperator"
    assert (clean["project_id"], clean["location"], clean["cluster_name"]) == \
        ("shop-prod", "europe-west1", "etl-cluster")
    assert clean["gcp_conn_id"] == "google_cloud_etl"
    assert clean["image"] == PIN
    assert len(clean["secrets"]) == 2


def test_every_kind_of_schedule(bag):
    dags = bag["schedules"]["dags"]
    kinds = {dag_id: (d["timetable"], d["cron"], d["delta"]) for dag_id, d in dags.items()}
    assert kinds == {
        "manual": ("NullTimetable", None, None),
        "once": ("OnceTimetable", None, None),
        "continuous": ("ContinuousTimetable", None, None),
        "hourly": ("CronDataIntervalTimetable", "0 * * * *", None),
        "sundays": ("CronDataIntervalTimetable", "0 6 * * sun", None),
        "every_six_hours": ("DeltaDataIntervalTimetable", None, 21600.0),
    }
    assert all("bigflow-image" not in d["tasks"] for d in dags.values())  # dag_pin_image = false
    assert dags["manual"]["tasks"]["a"]["image"] == "127.0.0.1:15500/s:1.2.0"


def test_local_bash_dags_run_the_projects_bigflow(bag, tmp_path):
    etl = bag["bash"]["dags"]["etl"]
    assert set(etl["tasks"]) == {"extract", "transform", "load"}  # no image, so nothing to pin
    load = etl["tasks"]["load"]
    assert load["operator"] == "BashOperator"
    assert load["upstream"] == ["transform"]
    runtime = RUNTIME.replace("'", '"')
    assert load["bash_command"] == f"/opt/bigflow/bin/bigflow run --job etl.load --runtime '{runtime}' --config dev --no-retries"
    assert load["cwd"].endswith("/example")


def test_the_schedule_check_agrees_with_airflow(bag):
    errors = {Path(name).stem for name in bag["crons"]["import_errors"]}
    for index, (cron, airflow_accepts) in enumerate(CRONS):
        assert (f"cron_{index}" not in errors) is airflow_accepts, cron
        try:
            check_cron(cron)
            ours = True
        except ValueError:
            ours = False
        assert ours is airflow_accepts, cron
    for index, cron in enumerate(STRICTER, start=len(CRONS)):
        assert f"cron_{index}" not in errors, cron  # Airflow takes it ...
        with pytest.raises(ValueError):
            check_cron(cron)  # ... bigflow refuses it, as core's Workflow does


def test_dag_files_import_only_airflow(tmp_path):
    """The files parse in a venv without bigflow: check that claim is real (bigflow is not installed there)."""
    done = subprocess.run([airflow_venvs.python(2), "-c", "import bigflow"], capture_output=True, text=True)
    assert done.returncode != 0 and "No module named 'bigflow'" in done.stderr
    assert shutil.which("airflow", path=str(airflow_venvs.venv(3) / "bin"))
