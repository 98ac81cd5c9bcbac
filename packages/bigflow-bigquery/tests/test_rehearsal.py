"""The emulator a rehearsal's containers share: the scaffold's ``rehearsal`` settings name it, bigflow-airflow's
hook ``start_rehearsal_services`` starts it (and leaves it running), and a job that finds it down says how to
start it."""

from __future__ import annotations

import pytest

from bigflow.api import BigflowError, environment, find_project
from bigflow_bigquery.emulator import ProjectEmulator, free_port
from bigflow_bigquery.rehearsal import own_emulator, start_rehearsal_emulator
from bigflow_bigquery.settings import Settings
from bigflow_bigquery.starter import REHEARSAL_EMULATOR_PORT, BigQueryStarter


@pytest.fixture
def project(tmp_path, write_project):
    """A project whose 'rehearsal' has the scaffold's settings, on a free port; its emulator stopped at the end."""
    port = free_port()
    settings = {key: type(value)(str(value).replace(str(REHEARSAL_EMULATOR_PORT), str(port)))
                for key, value in BigQueryStarter().environment_settings({})["rehearsal"].items()}
    write_project({"name": "emu"}, "emu", {"local": {"bigquery_endpoint": "emulator"},
                                           "prod": {"bigquery_endpoint": "bigquery"}, "rehearsal": settings})
    find_project.cache_clear()
    yield tmp_path, port
    ProjectEmulator(tmp_path / ".bigflow" / "bigquery-rehearsal").stop()
    find_project.cache_clear()


def test_the_scaffolds_rehearsal_names_its_own_emulator():
    settings = Settings.from_config(BigQueryStarter().environment_settings({})["rehearsal"], "rehearsal")
    assert own_emulator(settings)
    assert settings.endpoint == f"http://127.0.0.1:{REHEARSAL_EMULATOR_PORT}"


def test_a_rehearsal_starts_the_emulator_once_and_it_keeps_the_rows(project, bigflow_cli):
    root, port = project
    down = bigflow_cli("bigquery", "query", "--config", "rehearsal", "SELECT 1")
    assert down.exit_code == 1
    assert down.stderr.strip() == (f"Error: no BigQuery emulator answers at http://127.0.0.1:{port} (bigquery_endpoint "
                                   "of environment 'rehearsal'): start it: bigflow bigquery emulator start --config "
                                   "rehearsal")

    line = start_rehearsal_emulator(environment("rehearsal"))
    assert line.startswith(f"BigQuery emulator started at http://127.0.0.1:{port} (data in "
                           f"{root / '.bigflow' / 'bigquery-rehearsal' / 'data'}); it keeps running")
    assert start_rehearsal_emulator(environment("rehearsal")).startswith(
        f"BigQuery emulator already running at http://127.0.0.1:{port} (data in ")
    written = bigflow_cli("bigquery", "query", "--config", "rehearsal", "CREATE SCHEMA r; CREATE TABLE r.t AS SELECT 7 AS n")
    assert written.exit_code == 0, written.stderr
    assert bigflow_cli("bigquery", "query", "--config", "rehearsal", "--json", "SELECT n FROM r.t").json() == [{"n": 7}]
    status = bigflow_cli("bigquery", "emulator", "status", "--config", "rehearsal", "--json").json()
    assert status["url"] == f"http://127.0.0.1:{port}"  # 'emulator start|stop --config rehearsal' manage the same one


def test_a_data_dir_whose_emulator_runs_on_another_port_is_a_one_line_error(project):
    root, port = project
    running, _ = ProjectEmulator(root / ".bigflow" / "bigquery-rehearsal").start_detached(port=free_port())
    with pytest.raises(BigflowError, match=rf"^the BigQuery emulator of .* runs at {running.url}, not at "
                                           rf"http://127.0.0.1:{port} \(bigquery_endpoint of environment 'rehearsal'\); "
                                           r"stop it \(bigflow bigquery emulator stop --config rehearsal\)"):
        start_rehearsal_emulator(environment("rehearsal"))


def test_another_emulator_on_its_port_is_a_one_line_error(project):
    from bigflow_bigquery import emulator

    root, port = project
    foreign = emulator.start(rest_port=port)  # another project's, say
    try:
        with pytest.raises(BigflowError) as raised:
            start_rehearsal_emulator(environment("rehearsal"))
    finally:
        emulator.stop(foreign)
    assert str(raised.value) == (
        f"a BigQuery emulator answers at http://127.0.0.1:{port} (bigquery_endpoint of environment 'rehearsal'), "
        f"but not this project's (data in {root / '.bigflow' / 'bigquery-rehearsal' / 'data'}): stop it, or give "
        "the environment another port (bigquery_endpoint and bigquery_emulator_port)")


def test_other_endpoints_start_nothing(project):
    assert start_rehearsal_emulator(environment("prod")) is None
    assert start_rehearsal_emulator(environment("local")).startswith(
        "warning: bigquery_endpoint = \"emulator\" in environment 'local': each container starts an emulator of its "
        "own, and its rows go with it")
