"""The projects whose generated DAGs the Airflow tests load: an example project, a workflow using every
option, the GKE operator, every kind of schedule, the local (bash) style, and cron expressions to check the
schedule validator against Airflow's own."""

from __future__ import annotations

from pathlib import Path

from airflow_projects import JOBS, fresh, make_project

from bigflow.api import environment
from bigflow_airflow.builder import DagsBuilder, render_dags, write_dags

VERSION = "1.2.0"
START = "2024-03-01 06:00:00"

EXAMPLE = '''
from bigflow.workflow import Workflow
from .jobs import Step

hello_world = Workflow("hello_world", [Step("say_hello")], schedule_interval="@daily")

extract, transform, load = Step("extract"), Step("transform", retry_count=5, retry_pause_sec=30), Step("load")
etl = Workflow("etl", {extract: [transform], transform: [load]}, schedule_interval="0 3 * * *",
               depends_on_past=False)
'''

EVERYTHING = '''
from datetime import timedelta
from bigflow.workflow import Workflow
from .jobs import Step

extract = Step("extract", retry_count=5, retry_pause_sec=30, execution_timeout_sec=600)
clean = Step("clean_data")
load = Step("load", retry_count=0)
report = Step("report-v2", execution_timeout_sec=7200, retry_pause_sec=0)

everything = Workflow(
    "everything",
    {extract: [clean, load], clean: [report], load: [report]},
    schedule_interval="30 2 * * mon-fri",
    start_time_factory=lambda t: t.replace(hour=2, minute=30) - timedelta(days=7),
    depends_on_past=False,
    secrets=["bf_db_password", "API_TOKEN"],
    description="Loads **everything**.",
    tags=["finance", "daily"],
    owner="data-team",
    catchup=True,
    max_active_runs=3,
)
'''

SCHEDULES = '''
from datetime import timedelta
from bigflow.workflow import Workflow
from .jobs import Step

manual = Workflow("manual", [Step("a")], schedule_interval=None)
once = Workflow("once", [Step("a")], schedule_interval="@once")
continuous = Workflow("continuous", [Step("a")], schedule_interval="@continuous")
hourly = Workflow("hourly", [Step("a")], schedule_interval="@hourly")
sundays = Workflow("sundays", [Step("a")], schedule_interval="0 6 * * sun")
every_six_hours = Workflow("every_six_hours", [Step("a")], schedule_interval=timedelta(hours=6))
'''

EVERY_OPTION_ENV = {
    "docker_repository": "europe-west1-docker.pkg.dev/shop-prod/bigflow/shop",
    "dag_id_prefix": "shop.",
    "dag_owner": "platform",
    "dag_tags": ["bigflow"],
    "pod_command": "python -m bigflow",
    "pod_namespace": "etl",
    "pod_service_account": "etl-runner",
    "pod_cpu_request": "500m",
    "pod_memory_request": "1Gi",
    "pod_cpu_limit": "2",
    "pod_memory_limit": "4Gi",
    "pod_ephemeral_storage_limit": "10Gi",
    "pod_node_selector": {"cloud.google.com/gke-nodepool": "etl"},
    "pod_config_file": "/home/airflow/composer_kube_config",
    "kubernetes_conn_id": "kubernetes_default",
    "pod_startup_timeout_sec": 900,
}

GKE_ENV = {
    "airflow_operator": "gke",
    "docker_repository": "europe-west1-docker.pkg.dev/shop-prod/bigflow/shop",
    "gcp_project_id": "shop-prod",
    "region": "europe-west1",
    "gke_cluster_name": "etl-cluster",
    "gcp_conn_id": "google_cloud_etl",
}

#: (expression, whether Airflow accepts it); the validator must agree except where it is documented stricter
CRONS = [
    ("0 3 * * *", True), ("*/15 * * * *", True), ("0 0 1 jan,jul *", True), ("0 12 * * mon-fri", True),
    ("0 0 * * 7", True), ("0 0 L * *", True), ("0 0 * * 5#3", True), ("0 0,12 1-15/2 * *", True),
    ("0 24 * * *", False), ("60 * * * *", False), ("* * 32 * *", False), ("0 0 * 13 *", False),
    ("0 0 * * 8", False), ("*/0 * * * *", False), ("0 0 * * foo", False), ("a b c d e", False),
    ("0 0 0 * *", False), ("0 0 1 0 *", False), ("0 0 * * 6#6", False), ("0 0 * * 5L", False),
    ("0 0 * * mon#2", True), ("0 12 ? * SUN", True), ("0 0 * JAN,jul *", True),
]
#: accepted by Airflow (croniter), refused by bigflow (and by core's Workflow): wrap-around ranges, 6 fields
STRICTER = ["0 22-2 * * *", "0 0 * * * *"]

CRON_DAG = '''
try:
    from airflow.sdk import DAG, CronDataIntervalTimetable
except ImportError:
    from airflow import DAG
    from airflow.timetables.interval import CronDataIntervalTimetable
import datetime
try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:
    from airflow.operators.empty import EmptyOperator

with DAG({dag_id!r}, schedule=CronDataIntervalTimetable({cron!r}, timezone="UTC"),
         start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)):
    EmptyOperator(task_id="a")
'''


def build_into(project, env: str) -> Path:
    project = fresh(project)
    DagsBuilder().build(project, environment(env, project), {"version": VERSION, "start_time": START})
    return project.root / "build" / "dags" / env


def starter_project(root: Path) -> tuple[Path, list[dict]]:
    """`bigflow start-project` (every installed plugin's example workflow), built with `bigflow build dags`
    in its own process, as a user would; the DAG folder and `bigflow workflows list --json`."""
    import json
    import subprocess
    import sys

    bigflow = str(Path(sys.executable).parent / "bigflow")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([bigflow, "start-project", "demo-shop", "--no-input", "--docker-repository",
                    "127.0.0.1:15500/demo-shop", "--dags-bucket", "demo-bucket", "--gcp-project", "demo",
                    "--region", "europe-west1"], cwd=root, check=True, capture_output=True)
    project = root / "demo-shop"
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"]):
        subprocess.run([*git, *command], cwd=project, check=True)
    subprocess.run([bigflow, "build", "dags", "--config", "dev"], cwd=project, check=True, capture_output=True)
    listed = subprocess.run([bigflow, "workflows", "list", "--json"], cwd=project, check=True,
                            capture_output=True, text=True)
    return project / "build" / "dags" / "dev", json.loads(listed.stdout)


def scenarios(root: Path, bigflow: str) -> dict[str, Path]:
    """name -> folder of DAG files, every one generated the way users generate them."""
    folders = {}
    example = make_project(root / "example", "af_example", {"jobs": JOBS, "workflows": EXAMPLE},
                           {"dev": {"docker_repository": "127.0.0.1:15500/example"}}, name="example")
    folders["example"] = build_into(example, "dev")
    options = make_project(root / "options", "af_options", {"jobs": JOBS, "workflows": EVERYTHING},
                           {"prod": EVERY_OPTION_ENV}, name="shop")
    folders["options"] = build_into(options, "prod")
    gke = make_project(root / "gke", "af_gke", {"jobs": JOBS, "workflows": EVERYTHING}, {"prod": GKE_ENV},
                       name="shop")
    folders["gke"] = build_into(gke, "prod")
    schedules = make_project(root / "schedules", "af_schedules", {"jobs": JOBS, "workflows": SCHEDULES},
                             {"dev": {"docker_repository": "127.0.0.1:15500/s", "dag_pin_image": False}},
                             name="schedules")
    folders["schedules"] = build_into(schedules, "dev")
    rendered = render_dags(fresh(example), "dev", renderer_name="bash", version=VERSION, start_time=START,
                           extra={"bigflow": bigflow, "project_root": str(example.root)})
    folders["bash"] = root / "bash-dags"
    write_dags(folders["bash"], rendered)
    crons = root / "crons"
    crons.mkdir()
    for index, (cron, _) in enumerate([*CRONS, *((c, True) for c in STRICTER)]):
        (crons / f"cron_{index}.py").write_text(CRON_DAG.format(dag_id=f"cron_{index}", cron=cron))
    folders["crons"] = crons
    return folders
