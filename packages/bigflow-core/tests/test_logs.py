"""``bigflow logs``: Logs Explorer links, filters and gcloud commands built from bigflow's log fields."""

from __future__ import annotations

import sys
from urllib.parse import unquote

import pytest

from bigflow.cloud_logging import LogQuery, duration, name_prefix, queries
from bigflow.project import find_project


@pytest.fixture
def project(bigflow_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bigflow_cli("start-project", "shop", "--gcp-project", "acme-dev", "--region", "europe-west1",
                       "--no-input").exit_code == 0
    monkeypatch.chdir(tmp_path / "shop")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the workflow finder adds the project root
    find_project.cache_clear()
    yield tmp_path / "shop"
    for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[name]  # the next test's project is another directory


def test_filters_select_the_jobs_by_the_fields_bigflow_logs():
    pods, dataflow, dataproc = queries(["hello"], "count_words", "run42", "dev", "europe-west1")
    assert pods.filter == ('resource.type="k8s_container" AND jsonPayload.workflow_id="hello" AND '
                           'jsonPayload.job_id="count_words" AND jsonPayload.run_id="run42" AND jsonPayload.env="dev"')
    assert dataflow.filter == ('resource.type="dataflow_step" AND resource.labels.job_name=~"^hello-count-words" '
                               'AND resource.labels.region="europe-west1"')
    assert dataproc.filter == (
        '(resource.type="cloud_dataproc_job" AND resource.labels.job_id=~"^hello-count-words" AND '
        'resource.labels.region="europe-west1") OR (resource.type="cloud_dataproc_batch" AND '
        'resource.labels.batch_id=~"^hello-count-words" AND resource.labels.location="europe-west1")')


def test_several_workflows_are_alternatives():
    pods = queries(["a", "b"])[0]
    assert pods.filter == 'resource.type="k8s_container" AND (jsonPayload.workflow_id="a" OR jsonPayload.workflow_id="b")'


def test_links_carry_the_filter_the_range_and_the_project():
    query = LogQuery("t", 'resource.type="k8s_container" AND jsonPayload.workflow_id="a b"')
    url = query.url("acme-dev", "6h")
    assert url.startswith("https://console.cloud.google.com/logs/query;query=")
    assert url.endswith(";duration=PT6H?project=acme-dev")
    assert unquote(url.split(";query=")[1].split(";duration=")[0]) == query.filter
    assert query.gcloud("acme-dev", "2w") == (
        "gcloud logging read 'resource.type=\"k8s_container\" AND jsonPayload.workflow_id=\"a b\"' "
        "--project=acme-dev --freshness=14d")


def test_name_prefix_is_what_dataflow_and_dataproc_accept():
    assert name_prefix("Daily_Sales", "load.v2") == "daily-sales-load-v2"
    assert duration("30m") == ("PT30M", "30m")


def test_logs_command_for_one_job_of_a_deployed_environment(bigflow_cli, project):
    result = bigflow_cli("logs", "--config", "dev", "--job", "hello.report", "--since", "6h")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Logs of job hello.report, environment dev, project acme-dev, last 6h:"
    assert '  filter: resource.type="k8s_container" AND jsonPayload.workflow_id="hello" AND ' \
           'jsonPayload.job_id="report" AND jsonPayload.env="dev"' in lines
    # a plain-Python workflow: its pods' logs only, no Dataflow or Dataproc link
    assert sum(line.startswith("  https://console.cloud.google.com/logs/query;query=") for line in lines) == 1
    assert sum("?project=acme-dev" in line for line in lines) == 1


def test_logs_command_json_covers_every_workflow(bigflow_cli, project):
    result = bigflow_cli("logs", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert (data["env"], data["workflows"], data["gcp_project_id"]) == ("local", ["hello"], None)
    assert [q["title"].split(":")[0] for q in data["queries"]] == ["Composer / GKE"]


def test_dataflow_and_dataproc_links_only_for_the_jobs_that_run_there():
    from types import SimpleNamespace

    from bigflow.cloud_logging import DATAFLOW, DATAPROC, technologies

    beam, spark = type("BeamJob", (), {}), type("PySparkJob", (), {})
    beam.__module__, spark.__module__ = "bigflow_beam.jobs", "bigflow_spark.jobs"
    assert technologies([SimpleNamespace(), beam(), spark()]) == {DATAFLOW, DATAPROC}
    assert technologies([SimpleNamespace()]) == set()
    titles = [q.title.split(":")[0] for q in queries(["w"], uses=technologies([spark()]))]
    assert titles == ["Composer / GKE", "Dataproc"]


@pytest.mark.parametrize(("args", "message"), [
    (["--workflow", "helo"], "'helo'; did you mean 'hello'?"),  # the workflow finder's message
    (["--job", "hello.reprt"], "'reprt' in workflow 'hello'; did you mean 'report'?"),
    (["--job", "report"], "Error: --job 'report' needs its workflow: --job WORKFLOW_ID.JOB_ID or --workflow ID"),
    (["--since", "yesterday"], "Error: invalid --since 'yesterday': use a number and m, h, d or w, e.g. '6h' or '1d'"),
    (["--config", "stage"], "Error: unknown environment 'stage' (known: local, dev, prod, rehearsal)"),
])
def test_bad_input_is_one_line(bigflow_cli, project, args, message):
    result = bigflow_cli("logs", *args)
    assert result.exit_code == 2  # usage, or an unknown name
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert result.stderr.rstrip("\n").endswith(message)


def test_a_local_environment_warns_that_links_have_no_project(bigflow_cli, project):
    result = bigflow_cli("logs", "--workflow", "hello")
    assert result.exit_code == 0
    assert ("bigflow: warning: environment 'local' has no gcp_project_id: the links open the console's current "
            "project (use --config ENV of a deployed environment)") in result.stderr.splitlines()
