"""Real plugin distributions, built from fixture directories and installed into a real venv."""

import json
import re

import pytest

from support import ROOT, Venv, run


def _records(result):
    assert result.returncode == 0, result.stderr
    return {r["name"]: r for r in json.loads(result.stdout)}


def _checked(result):
    return {r["name"]: r for r in json.loads(result.stdout)["plugins"]}


def test_installed_plugin_is_listed_from_metadata_and_checked_by_loading(plugin_venv):
    records = _records(plugin_venv.bigflow("plugins", "list", "--json"))
    assert records["bigflow-hello"] == {
        "name": "bigflow-hello", "version": "1.2.3", "status": "installed", "builtin": False, "api": ">=1,<2",
        "provides": {"job_type": ["hello"], "command": ["hello"]},
        "modules": {"hello": "bigflow_hello.plugin"},
    }
    checked = _checked(plugin_venv.bigflow("plugins", "check", "--json",
                                           env={"BIGFLOW_LOAD_PLUGINS": "bigflow-hello"}))
    assert checked["bigflow-hello"] == {
        "name": "bigflow-hello", "version": "1.2.3", "status": "ok", "builtin": False,
        "hooks": ["register_commands", "register_job_types"],
        "registers": {"job_type": ["hello"], "command": ["hello"]}, "hook_errors": [],
    }


def test_plugin_raising_at_import_is_checked_as_failed_and_nothing_else_breaks(plugin_venv):
    listed = plugin_venv.bigflow("plugins", "list", "--json", env={"BIGFLOW_DISABLE_PLUGINS": "malformed"})
    assert _records(listed)["bigflow-broken"]["status"] == "installed" and listed.stderr == ""  # no import
    result = plugin_venv.bigflow("plugins", "check", "--json", env={"BIGFLOW_DISABLE_PLUGINS": "malformed"})
    assert result.returncode == 3
    assert _checked(result)["bigflow-broken"]["status"] == (
        "failed: ImportError: cannot import name 'Thing' from 'somewhere'"
    )
    assert result.stderr.splitlines()[0] == (
        "bigflow: warning: plugin 'bigflow-broken' failed: ImportError: cannot import name 'Thing' from "
        "'somewhere' — disable it with BIGFLOW_DISABLE_PLUGINS=bigflow-broken"
    )
    help_ = plugin_venv.bigflow("--help")
    assert help_.returncode == 0 and help_.stderr == ""
    assert re.search(r"\n  hello +Provided by the bigflow-hello plugin\.\n", help_.stdout)
    version = plugin_venv.bigflow("--version")
    assert version.returncode == 0 and version.stderr == ""
    assert "bigflow-broken 0.0.1 (plugin API unspecified: compatible)" in version.stdout.splitlines()
    assert plugin_venv.bigflow("hello", "you").stdout == "hello, you\n"


def test_malformed_entry_point_is_listed_as_failed_without_import(plugin_venv):
    result = plugin_venv.bigflow("plugins", "list", "--json", env={"BIGFLOW_DISABLE_PLUGINS": "bigflow-broken"})
    assert _records(result)["bigflow-malformed"]["status"] == (
        "failed: malformed entry point 'malformed' = 'bigflow_malformed.plugin:' (expected 'package.module')"
    )
    checked = plugin_venv.bigflow("plugins", "check", env={"BIGFLOW_DISABLE_PLUGINS": "bigflow-broken"})
    assert checked.stderr.startswith("bigflow: warning: plugin 'bigflow-malformed' failed: malformed entry point")


def test_command_of_a_failed_plugin_is_a_one_line_error(plugin_venv):
    result = plugin_venv.bigflow("broken")
    assert result.returncode == 3
    assert result.stderr.splitlines()[-1] == (
        "Error: command 'broken' is unavailable: plugin 'bigflow-broken' failed: ImportError: cannot import name "
        "'Thing' from 'somewhere'"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BIGFLOW_DISABLE_PLUGINS": "bigflow-broken,malformed"},
         {"bigflow-hello": "ok", "bigflow-broken": "disabled", "bigflow-malformed": "disabled"}),
        ({"BIGFLOW_LOAD_PLUGINS": "hello"},
         {"bigflow-hello": "ok", "bigflow-broken": "disabled", "bigflow-malformed": "disabled"}),
        ({"BIGFLOW_LOAD_PLUGINS": ""},
         {"bigflow-hello": "disabled", "bigflow-broken": "disabled", "bigflow-malformed": "disabled"}),
    ],
)
def test_environment_controls_loading(plugin_venv, env, expected):
    result = plugin_venv.bigflow("plugins", "check", "--json", env=env)
    assert result.stderr == ""
    assert {n: r["status"].split(":")[0] for n, r in _checked(result).items() if not r["builtin"]} == expected


def test_strict_mode_fails_on_the_broken_plugin(plugin_venv):
    result = plugin_venv.bigflow("plugins", "check", env={"BIGFLOW_STRICT_PLUGINS": "1"})
    assert result.returncode == 3
    assert result.stderr == (
        "Error: plugin 'bigflow-broken' failed: ImportError: cannot import name 'Thing' from 'somewhere' "
        "(BIGFLOW_STRICT_PLUGINS is set)\n"
    )


def test_plugins_new_scaffolds_a_package_that_installs_lists_and_tests(tmp_path):
    venv = Venv(tmp_path / "venv")
    created = venv.bigflow("plugins", "new", "bigflow-acme", cwd=tmp_path, check=True)
    assert "Created plugin package 'bigflow-acme'" in created.stdout
    venv.install("-e", str(tmp_path / "bigflow-acme"), "pytest")
    records = _records(venv.bigflow("plugins", "list", "--json"))
    assert records["bigflow-acme"]["provides"] == {"job_type": ["acme"], "deploy_target": ["acme"]}
    checked = venv.bigflow("plugins", "check")
    assert checked.returncode == 0, checked.stderr
    tests = run(venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path / "bigflow-acme",
                check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("9lives", "Error: invalid plugin name '9lives': use letters, digits and single '-', e.g. 'bigflow-acme'"),
        ("bad--name", "Error: invalid plugin name 'bad--name': use letters, digits and single '-', "
                      "e.g. 'bigflow-acme'"),
    ],
)
def test_plugins_new_rejects_bad_names(plugin_venv, tmp_path, name, error):
    result = plugin_venv.bigflow("plugins", "new", name, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (1, error)
    assert list(tmp_path.iterdir()) == []


def test_plugins_new_refuses_a_non_empty_directory(plugin_venv, tmp_path):
    (tmp_path / "bigflow-acme").mkdir()
    (tmp_path / "bigflow-acme" / "keep.txt").write_text("mine")
    result = plugin_venv.bigflow("plugins", "new", "bigflow-acme", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("bigflow-acme already exists and is not empty; choose another directory")
    assert [p.name for p in (tmp_path / "bigflow-acme").iterdir()] == ["keep.txt"]


HEAVY = ("apache_beam", "pyspark", "google.cloud.bigquery", "airflow", "docker")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plugins", "list"], ["plugins", "list", "--json"]])
def test_cli_does_not_import_engines(args):
    """In the workspace venv (all four plugins plus Beam, Spark, BigQuery), listing imports no engine."""
    code = (
        "import sys, contextlib, io\n"
        "from bigflow.cli import run_cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert run_cli({args!r}) == 0\n"
        f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
        "print(heavy)\n"
    )
    python = ROOT / ".venv" / "bin" / "python"
    result = run(str(python), "-c", code)
    assert result.stdout.strip() == "[]"
    assert "apache_beam" in run(str(python), "-c", "import apache_beam; print(apache_beam.__name__)").stdout
