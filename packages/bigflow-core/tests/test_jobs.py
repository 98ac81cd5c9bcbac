"""Core's builtin job types, ``python`` and ``shell``, looked up through the plugin registry."""

import sys
from datetime import datetime

import pytest

import bigflow
from bigflow.errors import BigflowError
from bigflow.executor import run_workflow
from bigflow.plugins import job_type


def test_python_job_gets_the_context_and_arguments(bigflow_host):
    PythonJob = job_type("python")
    seen = []
    job = PythonJob("p", lambda context, a, b=0: seen.append((context.runtime_str, a, b)) or a + b,
                    args=(1,), kwargs={"b": 2}, retry_count=0)
    report = run_workflow(bigflow.Workflow("wf", [job]), runtime=datetime(2026, 1, 2), env="local")
    assert report.ok and report["p"].value == 3
    assert seen == [("2026-01-02 00:00:00", 1, 2)]
    with pytest.raises(BigflowError, match="PythonJob 'x': function must be callable, got 42"):
        PythonJob("x", 42)


def test_shell_job_substitutes_context_values_and_fails_on_exit_codes(bigflow_host, tmp_path):
    ShellJob = job_type("shell")
    out = tmp_path / "out.txt"
    ok = ShellJob("echo", [sys.executable, "-c",
                           f"import os; open({str(out)!r}, 'w').write('{{runtime_str}} ' + os.environ['BIGFLOW_ENV'])"])
    failing = ShellJob("fail", f"{sys.executable} -c 'import sys; print(\"disk full\", file=sys.stderr); sys.exit(3)'",
                       retry_count=0)
    report = run_workflow(bigflow.Workflow("wf", [ok, failing]), runtime=datetime(2026, 1, 2, 3), env="dev")
    assert out.read_text() == "2026-01-02 03:00:00 dev"
    assert report["fail"].state == "failed"
    assert report["fail"].error_line.endswith("exited with 3: disk full")
    missing = ShellJob("missing", ["no-such-command-xyz"], retry_count=0)
    report = run_workflow(bigflow.Workflow("wf2", [missing]), runtime=datetime(2026, 1, 2), env="dev")
    assert report["missing"].error_line == "ShellJob 'missing': command not found: 'no-such-command-xyz'"
    with pytest.raises(BigflowError, match="ShellJob 'empty': empty command"):
        ShellJob("empty", "")
