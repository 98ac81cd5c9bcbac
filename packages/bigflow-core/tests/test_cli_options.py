"""Options every command has: -q/--quiet, -v/--verbose; and ``bigflow completion``."""

import os
import subprocess

import click
import pytest
from test_finder import WORKFLOW
from test_run_command import BIGFLOW, write_project

from bigflow.cli.app import cli
from bigflow.output import say


def every_command(group=cli, ctx=None, path="bigflow"):
    ctx = ctx or click.Context(cli, info_name="bigflow")
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from every_command(command, click.Context(command, info_name=name, parent=ctx), f"{path} {name}")


def test_every_command_accepts_quiet_and_verbose():
    commands = dict(every_command())
    assert {"bigflow run", "bigflow workflows show", "bigflow completion", "bigflow build"} <= set(commands)
    for path, command in commands.items():
        options = {opt for param in command.params for opt in param.opts}
        assert {"-q", "--quiet", "-v", "--verbose"} <= options, path


def test_quiet_drops_progress_lines(monkeypatch, capsys):
    say("==> step")
    monkeypatch.setenv("BIGFLOW_VERBOSITY", "-1")
    say("==> hidden")
    assert capsys.readouterr().err == "==> step\n"


def test_quiet_run_keeps_the_summary_and_drops_bigflows_info_records(tmp_path):
    root = write_project(tmp_path, a=WORKFLOW + "wf = bigflow.Workflow('wf', [PythonJob('j', ok)])\n")
    loud = subprocess.run([BIGFLOW, "run", "-w", "wf", "--log-format", "text"], cwd=root, capture_output=True,
                          text=True)
    quiet = subprocess.run([BIGFLOW, "run", "-q", "-w", "wf", "--log-format", "text"], cwd=root,
                           capture_output=True, text=True)
    assert loud.returncode == quiet.returncode == 0, loud.stderr + quiet.stderr
    assert " INFO " in loud.stderr and " INFO " not in quiet.stderr, quiet.stderr
    assert "success" in quiet.stdout


def complete(cwd, words):
    environ = {**os.environ, "_BIGFLOW_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}
    done = subprocess.run([BIGFLOW], cwd=cwd, env=environ, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell, tmp_path):
    done = subprocess.run([BIGFLOW, "completion", shell], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "_BIGFLOW_COMPLETE" in done.stdout, done.stderr


def test_completion_of_commands_options_and_workflow_ids(tmp_path):
    root = write_project(tmp_path, a=WORKFLOW + "wf = bigflow.Workflow('daily_sales', [PythonJob('j', ok)])\n")
    assert complete(root, "bigflow work") == ["plain,workflows"]
    assert complete(root, "bigflow run --wo") == ["plain,--workflow"]
    assert complete(root, "bigflow workflows show dai") == ["plain,daily_sales"]
