"""``bigflow build dags`` against the file system's limits: the longest DAG id Airflow allows, and a full disk
(a real 64 KiB tmpfs mounted over ``build/dags``)."""

from __future__ import annotations

import errno
import os
import subprocess
from itertools import count

import pytest
from airflow_projects import JOBS, build, make_project

from bigflow.errors import BigflowError

_ids = count()
LONG_ID = "w" * 250  # Airflow's limit for a DAG id


def workflow(workflow_id: str) -> str:
    return f'''
from bigflow.workflow import Workflow
from .jobs import Step

flow = Workflow("{workflow_id}", [Step("extract"), Step("load")])
'''


def project_with(tmp_path, modules: dict[str, str]):
    return make_project(tmp_path / "project", f"af_faults{next(_ids)}", {"jobs": JOBS, **modules},
                        {"dev": {"docker_repository": "127.0.0.1:5000/faults"}}, name="faults")


def test_a_250_character_workflow_id_builds_with_short_temporary_names(tmp_path):
    project = project_with(tmp_path, {"long": workflow(LONG_ID)})
    manifest = build(project, "dev")
    assert [a.name for a in manifest.of_kind("dag")] == [f"{LONG_ID}.py"]
    folder = project.root / "build" / "dags" / "dev"
    assert os.listdir(folder) == [f"{LONG_ID}.py"]  # and no temporary file left
    compile((folder / f"{LONG_ID}.py").read_text(), "long.py", "exec")


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs at ``<project>/build/dags``, filled to the last byte."""
    mount = tmp_path / "project" / "build" / "dags"
    mount.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        filler = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(filler, b"\0" * 512):
                pass
        except OSError as error:
            assert error.errno == errno.ENOSPC
        finally:
            os.close(filler)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_names_the_dags_folder_and_leaves_no_temporary_file(tmp_path, full_disk, monkeypatch):
    project = project_with(tmp_path, {"orders": workflow("orders"), "users": workflow("users")})
    monkeypatch.chdir(project.root)
    with pytest.raises(BigflowError) as error:
        build(project, "dev")
    assert str(error.value) == "cannot write the DAG files to build/dags/dev: No space left on device"
    assert [p.name for p in full_disk.rglob("*") if p.is_file()] == ["filler"]

    (full_disk / "filler").unlink()  # space again: the next build writes every file
    manifest = build(project, "dev")
    assert sorted(os.listdir(full_disk / "dev")) == ["orders.py", "users.py"]
    assert len(manifest.of_kind("dag")) == 2
