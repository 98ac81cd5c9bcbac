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
import time
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
        (["run", "-w", "wf", "-c", "prd"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', ok)])\n"}, 2,
         "Error: unknown environment 'prd' (known: local, dev)"),
        (["run", "-w", "wf"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', boom, retry_count=0)])\n"},
         1, "Error: 1 of 1 job(s) of 'wf' did not succeed; first: j failed: ValueError: bad input row 7"),
        (["run", "-w", "wf"], {"a": JOBS + "wf = bigflow.Workflow('wf', [PythonJob('j', slow, retry_count=0, "
                                           "execution_timeout_sec=1)])\n"},
         1, "Error: 1 of 1 job(s) of 'wf' did not succeed; first: j timeout"),
        (["run", "-w", "wf"], {"a": "import bigflow\nx = 1\ny = undefined_name\n"}, 2,
         "line 3: NameError: name 'undefined_name' is not defined"),
        (["run", "-w", "wf"], {"a": JOBS + "a, b = PythonJob('a', ok), PythonJob('b', ok)\n"
                                           "wf = bigflow.Workflow('wf', bigflow.Definition({a: [b], b: [a]}))\n"},
         1, "InvalidJobGraph: cycle in job graph: a -> b -> a"),
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
        "ConnectionError: temporary failure #1 (at bf1_project/retriable.py:18); --debug shows the traceback"
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
                                      "ConnectionError: login refused for password *** (token ***) "
                                      "(at proj/a.py:23); --debug shows the traceback")
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


HELLO_CONFIG = JOBS + textwrap.dedent("""
    config = bigflow.Config('dev', {'message': 'on DEV'}).add_configuration('prod', {'message': 'on PROD'})

    def hello(context):
        print('message', config.resolve_property('message'), context.env, flush=True)

    hello_config = bigflow.Workflow('hello_config', [PythonJob('hello', hello)])
""")


def test_config_names_an_environment_a_workflow_modules_config_declares(tmp_path):
    """1.x's documented ``bigflow run --workflow hello_config_workflow --config prod``: --config sets bf_env and
    the workflow module's own Config applies, although the project declares no 'prod'."""
    root = write_project(tmp_path, a=HELLO_CONFIG, b=JOBS + "plain = bigflow.Workflow('plain', [PythonJob('j', ok)])\n")
    ran = bigflow(root, "run", "-w", "hello_config", "--config", "prod")
    assert ran.returncode == 0, ran.stderr
    assert "message on PROD prod" in ran.stdout
    assert one_line_error(bigflow(root, "run", "-w", "plain", "--config", "prod"), 2) == (
        "Error: unknown environment 'prod' (known: local, dev)")
    assert one_line_error(bigflow(root, "run", "-w", "hello_config", "--config", "prd"), 2) == (
        "Error: unknown environment 'prd' (known: local, dev)")


CHILD_JOBS = JOBS + textwrap.dedent("""
    import os, subprocess, sys
    from pathlib import Path

    def spawn(context):  # a child that inherits stdout and would hold it open for 1000 s
        child = subprocess.Popen(["sleep", "1000"])
        Path(os.environ["PIDS"], f"{context.workflow_id}.pid").write_text(str(child.pid))
        sys.stdout.write("spawned\\n")
        if context.workflow_id == "waits":
            child.wait()

    def lookup(context):
        return {"id": 1}["customer_id"]

    leaves = bigflow.Workflow("leaves", [PythonJob("spawn", spawn)])
    waits = bigflow.Workflow("waits", [PythonJob("spawn", spawn)])
    buggy = bigflow.Workflow("buggy", [PythonJob("lookup", lookup)])
""")


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_nothing_a_job_started_holds_stdout_after_the_run(tmp_path):
    root = write_project(tmp_path, a=CHILD_JOBS)
    result = bigflow(root, "run", "-w", "leaves", env={"PIDS": str(tmp_path)})  # returns only once stdout closes
    assert result.returncode == 0, result.stderr
    assert "spawned" in result.stdout and not alive(int((tmp_path / "leaves.pid").read_text()))


def test_ctrl_c_stops_the_running_job_and_what_it_started(tmp_path):
    root = write_project(tmp_path, a=CHILD_JOBS)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("bf_")}
    process = subprocess.Popen([BIGFLOW, "run", "-w", "waits"], cwd=root, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**environ, "BIGFLOW_LOAD_PLUGINS": "", "PIDS": str(tmp_path)})
    assert process.stdout.readline() == "spawned\n"
    process.send_signal(subprocess.signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)  # a hang guard: it ends in about a second
    assert process.returncode == 130, stderr
    assert [line.split()[:2] for line in stdout.splitlines() if line.startswith("spawn")] == [["spawn", "cancelled"]]
    assert not alive(int((tmp_path / "waits.pid").read_text()))


BUG_LINE = CHILD_JOBS.splitlines().index('    return {"id": 1}["customer_id"]') + 1


def test_a_bug_fails_fast_locally_with_file_line_and_how_to_skip_retries(tmp_path):
    root = write_project(tmp_path, a=CHILD_JOBS)
    result = bigflow(root, "run", "-w", "buggy", "--log-format", "text")
    assert one_line_error(result) == (
        "Error: 1 of 1 job(s) of 'buggy' did not succeed; first: lookup failed: KeyError: 'customer_id' "
        f"(at proj/a.py:{BUG_LINE}); --debug shows the traceback")
    retries = [line.split("] ", 1)[1] for line in result.stderr.splitlines() if "retrying" in line]
    assert retries == [f"retrying job lookup in 1 s (attempt {n}/4; --no-retries to stop)" for n in (2, 3, 4)]
    paused = bigflow(root, "run", "-w", "buggy", "--retry-pause", "0.5")
    assert "retrying job lookup in 0.5 s (attempt 2/4; --no-retries to stop)" in paused.stderr


BACKFILL_JOBS = JOBS + textwrap.dedent("""
    import os

    def mark(context):
        with open(os.environ["MARKS"], "a") as out:
            out.write(f"{context.runtime_str}\\n")
        if context.runtime_str.startswith(os.environ.get("FAIL_ON", "never")):
            raise ValueError(f"bad day {context.runtime_str}")

    extract, load = PythonJob("extract", mark, retry_count=0), PythonJob("load", ok)
    daily = bigflow.Workflow("daily", {extract: [load]}, schedule_interval="@daily")
    hourly = bigflow.Workflow("hourly", [PythonJob("extract", mark, retry_count=0)], schedule_interval="0 */6 * * *",
                              depends_on_past=False, max_active_runs=3)
    manual = bigflow.Workflow("manual", [PythonJob("extract", mark)], schedule_interval=None)

    def mark_and_hang(context):
        mark(context)
        time.sleep(1000)

    hangs = bigflow.Workflow("hangs", [PythonJob("extract", mark_and_hang)])
""")


MARK_RAISE_LINE = BACKFILL_JOBS.splitlines().index('        raise ValueError(f"bad day {context.runtime_str}")') + 1


@pytest.fixture
def backfill_project(tmp_path):
    root = write_project(tmp_path, a=BACKFILL_JOBS)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('bucket = "local-bucket"',
                                                       'bucket = "local-bucket"\napi_token = "tok-not-shown"'))
    return root


def test_dry_run_prints_the_plan_and_runs_nothing(backfill_project, tmp_path):
    marks = tmp_path / "marks"
    result = bigflow(backfill_project, "run", "-w", "daily", "--dry-run", "--from", "2024-01-01", "--to",
                     "2024-01-02 12:00", env={"MARKS": str(marks)})
    assert result.returncode == 0, result.stderr
    assert not marks.exists()  # no job ran
    lines = result.stdout.splitlines()
    assert lines[0] == ("Dry run of workflow daily (nothing runs): environment local, runtime(s) "
                        "2024-01-01 00:00:00, 2024-01-02 00:00:00")
    assert [line.split()[:2] for line in lines[2:5]] == [["Job", "After"], ["extract", "1"], ["load", "extract"]]
    assert "tok-not-shown" not in result.stdout and ["api_token", "***", "pyproject.toml"] in [
        line.split() for line in lines]
    plan = json.loads(bigflow(backfill_project, "run", "-j", "daily.load", "--dry-run", "--json",
                              "-r", "2024-03-04").stdout)
    assert (plan["runtimes"], plan["env"], plan["depends_on_past"]) == (["2024-03-04 00:00:00"], "local", True)
    assert plan["jobs"] == [{"job_id": "load", "after": [], "attempts": 4, "retry_pause_sec": 1,
                             "execution_timeout_sec": 10800}]
    assert {row["key"]: row["value"] for row in plan["settings"]}["api_token"] == "***"


def test_backfill_runs_every_runtime_in_order_and_stops_at_the_first_failure(backfill_project, tmp_path):
    marks = tmp_path / "marks"
    result = bigflow(backfill_project, "run", "-w", "daily", "--from", "2024-01-01", "--to", "2024-01-04",
                     env={"MARKS": str(marks), "FAIL_ON": "2024-01-03"})
    assert marks.read_text().splitlines() == ["2024-01-01 00:00:00", "2024-01-02 00:00:00", "2024-01-03 00:00:00"]
    assert one_line_error(result) == ("Error: 2 of 4 runtime(s) of 'daily' did not succeed; first: "
                                      "2024-01-03 00:00:00 failed: ValueError: bad day 2024-01-03 00:00:00 "
                                      f"(at proj/a.py:{MARK_RAISE_LINE})")
    rows = [line.split()[:4] for line in result.stdout.splitlines() if line.startswith("2024-")]
    assert rows == [["2024-01-01", "00:00:00", "success", "2/2"], ["2024-01-02", "00:00:00", "success", "2/2"],
                    ["2024-01-03", "00:00:00", "failed", "0/2"], ["2024-01-04", "00:00:00", "skipped", "0.00s"]]


def test_backfill_of_independent_runtimes_in_parallel_continues_on_failure_with_a_json_summary(backfill_project,
                                                                                               tmp_path):
    marks = tmp_path / "marks"
    result = bigflow(backfill_project, "run", "-w", "hourly", "--from", "2024-01-01", "--to", "2024-01-01 23:59",
                     "--jobs", "3", "--continue-on-failure", "--json",
                     env={"MARKS": str(marks), "FAIL_ON": "2024-01-01 06"})
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert [(r["runtime"][11:13], r["state"]) for r in summary["runtimes"]] == [
        ("00", "success"), ("06", "failed"), ("12", "success"), ("18", "success")]
    assert sorted(marks.read_text().splitlines()) == [f"2024-01-01 {h}:00:00" for h in ("00", "06", "12", "18")]
    failed = summary["runtimes"][1]["run"]
    assert failed["jobs"][0]["error"].startswith("ValueError: bad day 2024-01-01 06:00:00 (at proj/a.py:")
    assert summary["ok"] is False and summary["runtimes"][0]["run"]["ok"] is True


@pytest.mark.parametrize(("args", "message"), [
    (["-w", "manual", "--from", "2024-01-01", "--to", "2024-01-02"],
     "Error: workflow 'manual' has no schedule to backfill (schedule_interval None); run it with --runtime instead"),
    (["-w", "daily", "--from", "2024-01-02"], "Error: give --from START and --to END together"),
    (["-w", "daily", "--from", "2024-01-02", "--to", "2024-01-01"],
     "Error: --from '2024-01-02' is after --to '2024-01-01'"),
    (["-w", "daily", "--from", "2024-01-01 01:00", "--to", "2024-01-01 02:00"],
     "Error: no runtime of workflow 'daily' (schedule @daily) falls between 2024-01-01 01:00:00 and "
     "2024-01-01 02:00:00"),
    (["-w", "daily", "-r", "2024-01-01", "--from", "2024-01-01", "--to", "2024-01-02"],
     "Error: give --runtime or --from/--to, not both"),
])
def test_bad_backfill_ranges_are_one_line(backfill_project, args, message):
    assert one_line_error(bigflow(backfill_project, "run", *args), 2) == message


def test_run_summary_as_json(backfill_project, tmp_path):
    result = bigflow(backfill_project, "run", "-w", "daily", "-r", "2024-02-03", "--json",
                     env={"MARKS": str(tmp_path / "marks")})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["workflow_id"], summary["runtime"], summary["env"], summary["ok"]) == (
        "daily", "2024-02-03 00:00:00", "local", True)
    assert [(job["job_id"], job["state"], job["attempts"], job["error"]) for job in summary["jobs"]] == [
        ("extract", "success", 1, None), ("load", "success", 1, None)]


def test_ctrl_c_stops_a_backfill_and_reports_every_runtime(backfill_project, tmp_path):
    marks = tmp_path / "marks"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("bf_")}
    process = subprocess.Popen([BIGFLOW, "run", "-w", "hangs", "--from", "2024-01-01", "--to", "2024-01-03"],
                               cwd=backfill_project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**environ, "BIGFLOW_LOAD_PLUGINS": "", "MARKS": str(marks)})
    deadline = time.monotonic() + 60
    while not marks.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(subprocess.signal.SIGINT)  # to bigflow only, as a CI runner may do
    stdout, stderr = process.communicate(timeout=60)  # a hang guard
    assert process.returncode == 130, stderr
    rows = [line.split()[2] for line in stdout.splitlines() if line.startswith("2024-")]
    assert rows == ["cancelled", "skipped", "skipped"] and marks.read_text() == "2024-01-01 00:00:00\n"
    assert [line for line in stderr.splitlines() if line.startswith("Error: ")] == [
        "Error: 3 of 3 runtime(s) of 'hangs' did not succeed; first: 2024-01-01 00:00:00 cancelled"]
