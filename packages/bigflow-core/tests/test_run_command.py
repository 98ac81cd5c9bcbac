"""``bigflow run``, ``bigflow workflows list`` and ``bigflow config show`` on real projects, in subprocesses.

``projects/bf1_project`` is written against the BigFlow 1.x API in the style of its documentation
(hello world, graph workflow, Config with dev/prod, a retriable job, a 1.x ``deployment_config.py``).
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bigflow.errors import BigflowError

BIGFLOW = str(Path(sys.executable).parent / "bigflow")
PROJECTS = Path(__file__).parent / "projects"


@pytest.fixture
def bf1(tmp_path):
    root = tmp_path / "bf1_project"
    shutil.copytree(PROJECTS / "bf1_project", root)
    return root


def bigflow(cwd, *args, env=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("bf_")}
    environ.update({"BIGFLOW_LOAD_PLUGINS": "", "BF1_TEST_LOG": str(Path(cwd) / "run.log")}, **(env or {}))
    return subprocess.run([BIGFLOW, *args], cwd=cwd, env=environ, capture_output=True, text=True)


def one_line_error(result, code=1):
    assert result.returncode == code, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_1x_graph_workflow_runs_unchanged_from_a_subdirectory(bf1):
    result = bigflow(bf1 / "bf1_project", "run", "--workflow", "graph_workflow", "--runtime", "2026-01-02",
                     "--jobs", "2", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    log = (bf1 / "bf1_project" / "run.log").read_text().splitlines()
    assert log[0] == "job1 2026-01-02 dev" and log[-1] == "job5 2026-01-02 dev"  # runtime_str as written, as 1.x
    assert sorted(line.split()[0] for line in log) == ["job1", "job2", "job3", "job4", "job5"]
    assert [line.split()[:2] for line in result.stdout.splitlines()[2:]] == [
        [f"job{i}", "success"] for i in range(1, 6)]
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert {r["workflow_id"] for r in records} == {"graph_workflow"}
    assert {r["env"] for r in records} == {"dev"}  # the default env, not None as in 1.x
    assert len({r["run_id"] for r in records}) == 1
    assert {r.get("job_id") for r in records} >= {"job1", "job5"}


def test_1x_config_workflow_with_prod(bf1):
    result = bigflow(bf1, "run", "--job", "config_workflow.print_message", "--config", "prod")
    assert result.returncode == 0, result.stderr
    assert (bf1 / "run.log").read_text() == "Message to print on PROD | prod_dataset.table | prod\n"


def test_1x_retriable_job_and_hello_world(bf1):
    result = bigflow(bf1, "run", "--workflow", "retriable_workflow")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].split()[:3] == ["flaky", "success", "3"]
    assert bigflow(bf1, "run", "-w", "hello_world_workflow", "-r", "2026-05-06 07:08:09").stdout.startswith(
        "Hello world on 2026-05-06 07:08:09!")


def test_workflows_list_and_config_show(bf1):
    listed = bigflow(bf1, "workflows", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    by_id = {w["workflow_id"]: w for w in json.loads(listed.stdout)}
    assert sorted(by_id) == ["config_workflow", "graph_workflow", "hello_world_workflow", "retriable_workflow"]
    assert by_id["graph_workflow"]["schedule"] == "0 1 * * *"
    assert by_id["graph_workflow"]["jobs"] == ["job1", "job2", "job3", "job4", "job5"]
    shown = bigflow(bf1, "config", "show", "--config", "prod", "--json",
                    env={"bf_dags_bucket": "from-env", "bf_unrelated": "x"})
    data = json.loads(shown.stdout)
    assert data["env"] == "prod" and data["environments"] == ["dev", "prod"] and data["default"] == "dev"
    values = {row["key"]: (row["value"], row["source"]) for row in data["values"]}
    assert values["gcp_project_id"] == ("my-gcp-prod-project", "deployment_config.py")
    assert values["docker_repository"] == ("eu.gcr.io/my-gcp-prod-project/bf1-project", "deployment_config.py")
    assert values["dags_bucket"] == ("from-env", "env:bf_dags_bucket")
    assert "unrelated" not in values


def test_the_index_avoids_importing_other_modules(bf1):
    marker = bf1 / "imports.txt"
    (bf1 / "bf1_project" / "noisy.py").write_text(
        f"open({str(marker)!r}, 'a').write('imported\\n')\n")
    assert bigflow(bf1, "run", "-w", "hello_world_workflow").returncode == 0
    assert not marker.exists()  # read with ast: a module defining no requested workflow is not imported
    index = json.loads((bf1 / ".bigflow" / "cache" / "workflows.json").read_text())
    assert list(index["modules"]["bf1_project.graph"]["workflows"]) == ["graph_workflow"]
    assert index["modules"]["bf1_project.noisy"]["dynamic"] is True
    assert one_line_error(bigflow(bf1, "run", "-w", "nope"), 2).startswith("Error: unknown workflow 'nope'")
    assert marker.read_text() == "imported\n"  # an unknown id imports the modules ast cannot read, once
    assert one_line_error(bigflow(bf1, "run", "-w", "nope"), 2)
    assert marker.read_text() == "imported\n"  # what it defines (nothing) is indexed
    (bf1 / "bf1_project" / "graph.py").write_text("raise RuntimeError('broken on purpose')\n")
    result = bigflow(bf1, "run", "-w", "hello_world_workflow")
    assert result.returncode == 0, result.stderr  # a broken unrelated module does not stop this run


def write_project(root, **modules):
    (root / "proj").mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "proj"
        [tool.bigflow]
        package = "proj"
        [tool.bigflow.environments.local]
        bucket = "local-bucket"
        [tool.bigflow.environments.dev]
        bucket = "dev-bucket"
        """))
    (root / "proj" / "__init__.py").write_text("")
    for name, text in modules.items():
        (root / "proj" / f"{name}.py").write_text(text)
    return root


JOBS = textwrap.dedent("""
    import time
    import bigflow
    from bigflow.jobs import PythonJob

    def ok(context):
        return "ok"

    def boom(context):
        raise ValueError("bad input row 7")

    def slow(context):
        time.sleep(30)

    def show(context):
        print("bucket", context.config["bucket"], context.env)
""")


@pytest.mark.parametrize(
    ("args", "modules", "code", "message"),
    [
        (["run", "-w", "wf_one"], {"a": JOBS + "wf = bigflow.Workflow('wf_on', [PythonJob('j', ok)])\n"}, 2,
         "Error: unknown workflow 'wf_one'; did you mean 'wf_on'?"),
        (["run", "-j", "wf.jb"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('job', ok)])\n"}, 2,
         "Error: unknown job 'jb' in workflow 'wf'; did you mean 'job'?"),
        (["run", "-j", "wf"], {}, 2, "Error: --job expects WORKFLOW_ID.JOB_ID, got 'wf'"),
        (["run", "-w", "wf", "-j", "wf.x"], {}, 2,
         "Error: give exactly one of --workflow ID or --job WORKFLOW_ID.JOB_ID"),
        (["run", "-w", "wf", "-r", "2026-13-01"], {}, 2,
         "Error: --runtime is '2026-13-01', not a time: expected 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (or ISO 8601 "
         "with a UTC offset)"),
        (["run", "-w", "wf", "-r", "9999-12-31T23:00:00-05:00"], {}, 2,
         "Error: --runtime is '9999-12-31T23:00:00-05:00', out of range: in UTC it falls outside years 0001-9999"),
        (["run", "-w", "wf", "-c", "prd"], {}, 2, "Error: unknown environment 'prd' (known: local, dev)"),
        (["run", "-w", "wf"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', boom, retry_count=0)])\n"},
         1, "Error: 1 of 1 job(s) of 'wf' did not succeed; first: j failed: ValueError: bad input row 7"),
        (["run", "-w", "wf"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', slow, retry_count=0, "
                                           "execution_timeout_sec=1)])\n"},
         1, "Error: 1 of 1 job(s) of 'wf' did not succeed; first: j timeout"),
        (["run", "-w", "wf"], {"a": "import bigflow\nx = 1\ny = undefined_name\n"}, 2,
         "line 3: NameError: name 'undefined_name' is not defined"),
        (["run", "-w", "wf"], {"a": JOBS + "a, b = PythonJob('a', ok), PythonJob('b', ok)\n"
                                           "wf = bigflow.Workflow('wf', bigflow.Definition({a: [b], b: [a]}))\n"},
         1, "InvalidJobGraph: cycle in workflow 'wf': a -> b -> a"),
        (["run", "-w", "wf"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', ok), PythonJob('j', ok)])\n"},
         1, "duplicate job id 'j'"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, modules, code, message):
    root = write_project(tmp_path, **modules)
    line = one_line_error(bigflow(root, *args), code)
    assert message in line, line


def test_config_reaches_jobs_and_required_values_are_enforced(tmp_path):
    root = write_project(tmp_path, a=JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', show)])\n")
    result = bigflow(root, "run", "-w", "wf", "-c", "dev")
    assert result.returncode == 0 and result.stdout.startswith("bucket dev-bucket dev\n"), result.stderr
    assert bigflow(root, "run", "-w", "wf").stdout.startswith("bucket local-bucket local\n")
    assert bigflow(root, "run", "-w", "wf", env={"bf_bucket": "override"}).stdout.startswith("bucket override")


def test_outside_a_project(tmp_path):
    line = one_line_error(bigflow(tmp_path, "run", "-w", "wf"))
    assert line.startswith(f"Error: no bigflow project found in {tmp_path} or above")


def test_secrets_are_masked_in_config_show_and_logs(tmp_path):
    root = write_project(
        tmp_path,
        config="import bigflow\nconfig = bigflow.Config('local', {'db_password': 'hunter2', 'user': 'ann'})\n",
        a=JOBS + "import logging\n"
                 "def connect(context):\n"
                 "    logging.getLogger('proj').warning('connecting with %s', context.config['db_password'])\n"
                 "    assert context.config['db_password'] == 'hunter2'\n"
                 "wf = bigflow.Workflow('wf', [PythonJob('j', connect)])\n",
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('package = "proj"', 'package = "proj"\nconfig = "proj.config:config"'))
    shown = bigflow(root, "config", "show", "--json")
    values = {row["key"]: row for row in json.loads(shown.stdout)["values"]}
    assert values["db_password"]["value"] == "***" and values["db_password"]["source"] == "code"
    assert values["user"]["value"] == "ann" and values["bucket"]["source"] == "pyproject.toml"
    assert "hunter2" not in shown.stdout
    ran = bigflow(root, "run", "-w", "wf", "--log-format", "text")
    assert ran.returncode == 0, ran.stderr
    assert "connecting with ***" in ran.stderr and "hunter2" not in ran.stderr + ran.stdout


def test_no_retries_makes_one_attempt(bf1):
    result = bigflow(bf1, "run", "--workflow", "retriable_workflow", "--no-retries")
    assert one_line_error(result) == (
        "Error: 1 of 1 job(s) of 'retriable_workflow' did not succeed; first: flaky failed: "
        "ConnectionError: temporary failure #1"
    )
    assert result.stdout.splitlines()[2].split()[:3] == ["flaky", "failed", "1"]


def test_workflows_list_names_a_broken_module(bf1):
    (bf1 / "bf1_project" / "broken.py").write_text("import bigflow\n\nraise ValueError('oops')\n")
    result = bigflow(bf1, "workflows", "list")
    line = one_line_error(result)
    assert line.endswith("broken.py, line 3: ValueError: oops"), line
    assert [row.split()[0] for row in result.stdout.splitlines()[1:]] == [
        "config_workflow", "graph_workflow", "hello_world_workflow", "retriable_workflow"]


SECRET_JOBS = JOBS + textwrap.dedent("""
    import logging

    def leak(context):
        token, password = context.config["api_token"], context.config["db_password"]
        logging.getLogger("proj").warning("token=%s password=%s", token, password)
        raise ConnectionError(f"login refused for password {password} (token {token})")

    wf = bigflow.Workflow("wf", [PythonJob("j", leak, retry_count=0)])
""")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secret_settings_from_any_source_are_masked_in_job_logs_and_the_error_line(tmp_path, log_format):
    root = write_project(tmp_path, a=SECRET_JOBS)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'bucket = "local-bucket"', 'bucket = "local-bucket"\napi_token = "tok-from-pyproject"\ndb_password = "x"'))
    secret = {"bf_db_password": "pw-from-environment"}
    result = bigflow(root, "run", "-w", "wf", "--log-format", log_format, env=secret)
    debug = bigflow(root, "--debug", "run", "-w", "wf", "--log-format", log_format, env=secret)
    output = result.stdout + result.stderr + debug.stdout + debug.stderr
    assert "tok-from-pyproject" not in output and "pw-from-environment" not in output, output
    assert one_line_error(result) == ("Error: 1 of 1 job(s) of 'wf' did not succeed; first: j failed: "
                                      "ConnectionError: login refused for password *** (token ***)")
    assert "token=*** password=***" in result.stderr  # the job's own log record
    assert "Traceback" in debug.stderr  # with --debug, the job's traceback is logged, masked too
    assert "ConnectionError: login refused for password *** (token ***)" in debug.stderr.split("Traceback")[1]


def test_log_format_auto_is_text_on_a_terminal_and_json_only_in_a_pod_or_when_asked(monkeypatch, tmp_path):
    from bigflow.log import choose_format, wants_color

    main, secondary = os.openpty()
    terminal, piped = open(secondary, "w"), open(tmp_path / "stderr", "w")  # noqa: SIM115 - closed below
    try:
        for variable in ("KUBERNETES_SERVICE_HOST", "BIGFLOW_LOG_FORMAT"):
            monkeypatch.delenv(variable, raising=False)
        assert choose_format("auto", piped) == "text"  # /.dockerenv or not: no longer a reason for JSON
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
        assert (choose_format("auto", piped), choose_format("auto", terminal)) == ("json", "text")
        monkeypatch.setenv("BIGFLOW_LOG_FORMAT", "text")
        assert choose_format("auto", piped) == "text"
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
        monkeypatch.setenv("BIGFLOW_LOG_FORMAT", "json")
        assert (choose_format("auto", piped), choose_format("auto", terminal)) == ("json", "text")
        assert choose_format("json", terminal) == "json"  # asked for explicitly
        monkeypatch.setenv("BIGFLOW_LOG_FORMAT", "yaml")
        with pytest.raises(BigflowError, match="^BIGFLOW_LOG_FORMAT='yaml' is not a log format; use one of"):
            choose_format("auto", piped)
        monkeypatch.delenv("NO_COLOR", raising=False)
        assert (wants_color(terminal), wants_color(piped)) == (True, False)
        monkeypatch.setenv("NO_COLOR", "1")
        assert not wants_color(terminal)
    finally:
        terminal.close(), piped.close(), os.close(main)


def test_levels_are_coloured_when_asked():
    import logging

    from bigflow.log import TextFormatter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "broken", None, None)
    assert "\033[31mERROR  \033[0m broken" in TextFormatter(color=True).format(record)
    assert "ERROR   broken" in TextFormatter(color=False).format(record)
