"""The rehearsal's pod launcher on the real Docker engine of scripts/setup: a failed task's error is bigflow's
``Error:`` line as the engine kept it, not whatever the attached ``docker run`` relayed last."""

import os
import subprocess
import uuid

import airflow_venvs

from bigflow_airflow.rehearsal_pod import container_output, one_line_error

DOCKER_HOST = f"unix://{airflow_venvs.cache_dir() / 'docker' / 'docker.sock'}"
BASE_IMAGE = "local/python:3.11-bookworm"  # made by scripts/setup.d/10-docker.sh


def test_the_error_line_comes_from_everything_the_ended_container_wrote(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", DOCKER_HOST)
    name = f"bigflow-test-{uuid.uuid4().hex[:8]}"
    script = ("import sys; print('check_orders  failed  1  0.01s', flush=True); "
              "print('Error: 1 of 1 job(s) failed; first: check_orders failed: RuntimeError: no orders', "
              "file=sys.stderr); sys.exit(1)")
    try:
        done = subprocess.run(["docker", "run", "--name", name, "--network", "host", BASE_IMAGE, "python3", "-c",
                               script], capture_output=True, text=True, timeout=120, env=os.environ)
        assert done.returncode == 1, done.stderr
        lines = container_output("docker", name)
        assert lines == ["check_orders  failed  1  0.01s",
                         "Error: 1 of 1 job(s) failed; first: check_orders failed: RuntimeError: no orders"]
        relayed = ["check_orders  failed  1  0.01s"]  # an attach that lost the last line
        assert one_line_error(lines or relayed, 1) == (
            "container exited with code 1: 1 of 1 job(s) failed; first: check_orders failed: RuntimeError: no orders")
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, env=os.environ)
    assert container_output("docker", name) == []  # gone: the caller falls back to the relayed lines
