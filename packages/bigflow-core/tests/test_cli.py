"""The CLI shell: help, versions, one-line errors, suggestions, plugin commands and listing."""

import json
import re

import click
import pytest

from bigflow.plugins import hookimpl
from bigflow.version import PLUGIN_API_VERSION, __version__


def test_help_lists_core_and_plugin_commands(bigflow_cli):
    result = bigflow_cli("--help")
    assert result.exit_code == 0
    assert re.search(r"\n  plugins +List, check and create bigflow plugins\.\n", result.stdout)
    assert re.search(r"\n  run +Run a workflow or one job locally\.\n", result.stdout)
    assert result.stderr == ""


def test_version_lists_core_and_plugins(bigflow_cli):
    result = bigflow_cli("--version")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"bigflow-core {__version__} (plugin API {PLUGIN_API_VERSION})"
    assert all(line.endswith(": disabled)") for line in lines[1:])  # BIGFLOW_LOAD_PLUGINS is empty here


def test_unknown_command_suggests_the_nearest(bigflow_cli):
    result = bigflow_cli("plugin")
    assert result.exit_code == 2
    assert result.stderr == "Error: No such command 'plugin'. Did you mean 'plugins'?\n"


def test_unknown_subcommand_and_option_are_one_line(bigflow_cli):
    result = bigflow_cli("plugins", "lst")
    assert (result.exit_code, result.stderr) == (2, "Error: No such command 'lst'. Did you mean 'list'?\n")
    result = bigflow_cli("plugins", "list", "--jsn")
    assert result.exit_code == 2
    assert result.stderr == "Error: No such option '--jsn'. Did you mean '--json'?\n"


def _plugin_with_command(command):
    class Plugin:
        @hookimpl
        def register_commands(self, register):
            register(command.name, command)

    return Plugin()


def test_unexpected_exception_is_one_line_and_debug_shows_traceback(bigflow_register, bigflow_cli):
    @click.command("explode")
    def explode():
        raise ZeroDivisionError("boom")

    bigflow_register(_plugin_with_command(explode))
    result = bigflow_cli("explode")
    assert result.exit_code == 1
    assert result.stderr == "Error: ZeroDivisionError: boom (run with --debug for the traceback)\n"
    with pytest.raises(ZeroDivisionError):
        bigflow_cli("--debug", "explode")


def test_plugins_list_json(bigflow_register, bigflow_cli):
    @click.command("hello")
    def hello():
        pass

    bigflow_register(_plugin_with_command(hello), name="hello-plugin")
    result = bigflow_cli("plugins", "list", "--json")
    assert result.exit_code == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)}
    assert records["hello-plugin"] == {  # registered in-process: nothing declared in metadata
        "name": "hello-plugin", "version": "0+test", "status": "ok", "builtin": False, "api": None,
        "provides": {}, "modules": {},
    }
    assert "bigflow-core" not in records


def test_plugins_check_json_shows_what_each_plugin_registers(bigflow_register, bigflow_cli):
    bigflow_register(_plugin_with_command(click.Command("hello")), name="hello-plugin")
    result = bigflow_cli("plugins", "check", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["problems"] == []
    records = {r["name"]: r for r in data["plugins"]}
    assert records["hello-plugin"] == {
        "name": "hello-plugin", "version": "0+test", "status": "ok", "builtin": False,
        "hooks": ["register_commands"], "registers": {"command": ["hello"]}, "hook_errors": [],
    }
    assert records["bigflow-core"]["registers"]["job_type"] == ["python", "shell"]


def test_plugins_list_all_includes_builtins(bigflow_cli):
    result = bigflow_cli("plugins", "list", "--all", "--json")
    core = next(r for r in result.json() if r["name"] == "bigflow-core")
    assert core["builtin"] is True
    assert core["status"] == "installed"  # listing imports nothing
    assert core["provides"]["job_type"] == ["python", "shell"]


def test_plugins_list_table_when_piped(bigflow_register, bigflow_cli):
    bigflow_register(_plugin_with_command(click.Command("hi")), name="hi-plugin")
    result = bigflow_cli("plugins", "list")
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["Name", "Version", "Status", "Provides"]
    assert any(row.split() == ["hi-plugin", "0+test", "ok"] for row in rows)
    checked = bigflow_cli("plugins", "check").stdout.splitlines()
    assert checked[0].split() == ["Name", "Version", "Status", "Hooks", "Registers"]
    assert ["hi-plugin", "0+test", "ok", "register_commands", "commands:", "hi"] in [r.split() for r in checked]


def test_plugin_command_colliding_with_core_is_reported(bigflow_register, bigflow_cli):
    @click.command("plugins")
    def impostor():
        click.echo("impostor")

    bigflow_register(_plugin_with_command(impostor), name="impostor")
    result = bigflow_cli("plugins", "check", "--json")
    assert result.exit_code == 3
    assert "command 'plugins' from plugin 'impostor' collides with a core command; ignored" in result.stderr


def test_plugins_check_fails_on_a_broken_plugin(bigflow_register, bigflow_cli):
    class Broken:
        @hookimpl
        def register_job_types(self, register):
            raise RuntimeError("nope")

    bigflow_register(Broken(), name="broken")
    result = bigflow_cli("plugins", "check")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1] == "Error: 1 plugin problem(s): broken: failed: RuntimeError: nope"
    as_json = bigflow_cli("plugins", "check", "--json")
    data = as_json.json()
    assert (as_json.exit_code, data["ok"], data["problems"]) == (3, False, ["broken: failed: RuntimeError: nope"])
    assert "broken" in [p["name"] for p in data["plugins"]]


def test_required_plugins(tmp_path, monkeypatch, bigflow_cli):
    from bigflow.project import find_project

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[tool.bigflow]\nrequired-plugins = ["bigflow-core>=0.1", "bigflow-nothere>=2"]\n'
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    find_project.cache_clear()
    result = bigflow_cli("plugins", "check")
    assert result.exit_code == 3
    assert result.stderr == (
        "Error: project requires missing plugin(s) bigflow-nothere>=2: run pip install 'bigflow-nothere>=2'\n"
    )
    find_project.cache_clear()
    as_json = bigflow_cli("plugins", "check", "--json")
    assert (as_json.exit_code, as_json.json()["problems"]) == (
        3, ["project requires missing plugin(s) bigflow-nothere>=2: run pip install 'bigflow-nothere>=2'"])
    (tmp_path / "pyproject.toml").write_text('[tool.bigflow]\nrequired-plugins = ["bigflow-core>=0.1"]\n')
    find_project.cache_clear()
    assert bigflow_cli("plugins", "check").exit_code == 0
    find_project.cache_clear()


@pytest.mark.parametrize(("old", "new"), [
    ("build-dags", "build dags"), ("build-image", "build image"), ("build-package", "build package"),
    ("build-requirements", "build requirements"),
    ("deploy-dags", "deploy composer"), ("deploy-image", "deploy image"), ("project-version", "version"),
    ("pv", "version"),
])
def test_1x_command_names_are_hidden_aliases_naming_the_new_command(bigflow_cli, old, new):
    result = bigflow_cli(old, "--help")
    assert result.exit_code == 0
    assert result.stderr == f"'bigflow {old}' is now 'bigflow {new}'\n"
    assert result.stdout.startswith(f"Usage: bigflow {new.split()[0]} ")
    assert old not in bigflow_cli("--help").stdout
