"""The project's emulator: ``bigflow bigquery emulator start|stop|status|reset``, persistence, start failures."""

from __future__ import annotations

import socket
import sys

import pytest

from bigflow.errors import BigflowError
from bigflow_bigquery import emulator


@pytest.fixture
def project(write_project):
    return write_project({"name": "emu"}, "emu", {"local": {"bigquery_endpoint": "emulator",
                                                            "gcp_project_id": "emu-project"}})


def test_start_status_query_stop_and_data_kept_until_reset(project, bigflow_cli):
    assert "not running" in bigflow_cli("bigquery", "emulator", "status").stdout
    started = bigflow_cli("bigquery", "emulator", "start")
    assert started.exit_code == 0, started.stderr
    assert "already running" in bigflow_cli("bigquery", "emulator", "start").stdout
    status = bigflow_cli("bigquery", "emulator", "status", "--json").json()
    assert status["running"] and status["url"].startswith("http://127.0.0.1:")
    assert status["data_dir"] == str(project / ".bigflow" / "bigquery" / "data")

    created = bigflow_cli("bigquery", "query", "CREATE SCHEMA kept; CREATE TABLE kept.t AS SELECT 42 AS answer")
    assert created.exit_code == 0, created.stderr
    assert "stopped" in bigflow_cli("bigquery", "emulator", "stop").stdout
    assert "not running" in bigflow_cli("bigquery", "emulator", "status").stdout

    # the next command starts an emulator for itself, on the same data, and stops it when it ends
    answer = bigflow_cli("bigquery", "query", "--json", "SELECT answer FROM kept.t")
    assert answer.exit_code == 0, answer.stderr
    assert answer.json() == [{"answer": 42}]
    emulator.stop_owned()

    assert "deleted" in bigflow_cli("bigquery", "emulator", "reset").stdout
    bigflow_cli("bigquery", "emulator", "start", "--fresh")
    gone = bigflow_cli("bigquery", "query", "SELECT answer FROM kept.t")
    assert gone.exit_code == 1 and gone.stderr.startswith("Error: query failed: ")
    assert "stopped" in bigflow_cli("bigquery", "emulator", "stop").stdout


def test_query_prints_a_table_and_dry_run_cost(project, bigflow_cli, bq_emulator):
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace(
        'bigquery_endpoint = "emulator"', f'bigquery_endpoint = "{bq_emulator.url}"\nbigquery_price_per_tib = 5'))
    table = bigflow_cli("bigquery", "query", "--config", "local", "SELECT 1 AS a, 'x' AS b")
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines()[:2] == ["a  b", "1  x"]
    dry = bigflow_cli("bigquery", "query", "--dry-run", "SELECT 1 AS a")
    assert dry.stdout.startswith("This query will process 0.0 B and cost 0.0 USD.")
    bad = bigflow_cli("bigquery", "query", "SELECT 1 AS a,\nFROM")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: query failed at line 2 ('FROM'): ")
    unknown = bigflow_cli("bigquery", "query", "--config", "locl", "SELECT 1")
    assert unknown.exit_code == 2 and "unknown environment 'locl'" in unknown.stderr


def test_port_in_use_is_one_line_with_the_fix(project, bigflow_cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = bigflow_cli("bigquery", "emulator", "start", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: cannot start the BigQuery emulator: port {port} on 127.0.0.1 is "
                                     "already in use; stop what listens there or choose another port "
                                     "(bigquery_emulator_port / --port)")


def test_missing_duckdb_extension_says_how_to_fix(tmp_path, monkeypatch):
    """A wheel without the extension file for this duckdb, and an empty extension directory."""
    import duckdb

    fake = tmp_path / "site" / "duckdb_extension_spatial"
    (fake / "extensions" / "v0.0.1").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    with pytest.raises(BigflowError) as failure:
        emulator.start(duckdb_home=tmp_path / "empty-home", log=tmp_path / "emulator.log")
    message = str(failure.value)
    assert message.startswith("cannot start the BigQuery emulator: the DuckDB extension 'spatial' for duckdb "
                              f"{duckdb.__version__} is neither installed")
    assert f"pip install 'duckdb-extension-spatial=={duckdb.__version__}'" in message


def test_extensions_are_installed_offline_from_the_wheels(tmp_path):
    import subprocess

    done = subprocess.run([sys.executable, "-m", "bigflow_bigquery.emulator_main", "install"],
                          env={"BIGFLOW_DUCKDB_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "DuckDB extensions installed: spatial, avro"
    assert list(tmp_path.glob(".duckdb/extensions/v*/*/spatial.duckdb_extension"))


def test_an_owned_emulator_stops_with_its_parent(tmp_path):
    import os
    import subprocess
    import time

    script = ("import sys\nfrom bigflow_bigquery import emulator\n"
              "print(emulator.start().pid, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ""})
    pid = int(done.stdout.strip())
    assert done.stderr == ""  # no progress line when not on a terminal
    deadline = time.monotonic() + 30
    while emulator._pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not emulator._pid_alive(pid)


def test_starting_shows_progress_with_the_elapsed_time_on_a_terminal(tmp_path):
    from bigflow.testing.terminal import on_a_terminal

    script = "from bigflow_bigquery import emulator\nemulator.start()\nprint('answering')\n"
    code, shown = on_a_terminal([sys.executable, "-c", script], cwd=tmp_path)
    assert code == 0, shown
    assert "starting the BigQuery emulator" in shown and "0:00:0" in shown, shown
    assert "answering" in shown
