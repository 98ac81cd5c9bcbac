"""The four plugins of this repository, installed in the workspace venv, as users see them."""

import json

from support import ROOT, run

BIGFLOW = str(ROOT / ".venv" / "bin" / "bigflow")
PLUGINS = ("bigflow-airflow", "bigflow-beam", "bigflow-bigquery", "bigflow-spark")


def test_version_lists_every_plugin_as_compatible():
    lines = run(BIGFLOW, "--version").stdout.splitlines()
    for name in PLUGINS:
        assert f"{name} 0.1.0 (plugin API >=1,<2: compatible)" in lines


def test_every_plugin_loads_without_warnings():
    result = run(BIGFLOW, "plugins", "check", "--json", env={"BIGFLOW_STRICT_PLUGINS": "1"})
    records = {r["name"]: r for r in json.loads(result.stdout)["plugins"] if not r["builtin"]}
    assert sorted(records) == list(PLUGINS)
    assert {r["status"] for r in records.values()} == {"ok"}
    assert result.stderr == ""


def test_plugins_check_passes():
    assert run(BIGFLOW, "plugins", "check").stdout.strip().endswith("plugin distribution(s) OK")
