"""What real Airflow 2.10.5 and 3.3.x make of a Composer bucket deployed in releases: its ``dags/<project>/`` is
copied to a DAGs folder as Composer syncs it, at moments of interest, and loaded into a DagBag by each version.

- after deploy 1: the DAGs of version 1, from the loader;
- after deploy 2: those of version 2 (one workflow removed, one added);
- deploy 2 synced except one file of its release (the sync is file by file): all of version 1, none of 2;
- the move from per-DAG files, half done: every DAG once, the old file winning while it is there.
"""

from __future__ import annotations

import json
import shutil
from itertools import count
from pathlib import Path

import airflow_venvs
import pytest
from airflow_projects import JOBS, build, make_project
from composer_view import sync
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from bigflow.api import environment
from bigflow_airflow.composer import ComposerTarget

_ids = count()


def workflow(workflow_id: str) -> str:
    return f'''
from bigflow.workflow import Workflow
from .jobs import Step

flow = Workflow("{workflow_id}", [Step("extract"), Step("load")])
'''


@pytest.fixture(scope="module")
def folders(tmp_path_factory, gcs_endpoint, registry) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("composer-airflow")
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_endpoint})
    bucket = client.create_bucket(f"composer-airflow-{next(_ids)}")
    package = f"compo_af{next(_ids)}"
    for version in ("1.0.0", "2.0.0"):
        registry.push(f"{package}/image", version)
    env = {"docker_repository": f"{registry.host}/{package}/image", "dags_bucket": bucket.name,
           "storage_endpoint": gcs_endpoint, "dag_pin_image": False}  # the image is then a task field
    project = make_project(root / "project", package, {"jobs": JOBS, "orders": workflow("orders"),
                                                       "users": workflow("users")}, {"dev": env}, name="shop")
    folders = {name: root / name / "dags" for name in ("v1", "v2", "v2-partial", "moving")}

    def copy_to(name: str) -> Path:
        sync(bucket, "dags/shop/", folders[name] / "shop")
        return folders[name] / "shop"

    first = build(project, "dev", version="1.0.0")
    ComposerTarget().deploy(project, first, environment("dev", project), {})
    copy_to("v1")
    for artifact in first.of_kind("dag"):  # per-DAG files of the old layout beside the loader, orders.py only
        if artifact.name == "orders.py":
            shutil.copy(project.root / artifact.path, copy_to("moving") / artifact.name)
    (project.root / package / "users.py").unlink()
    (project.root / package / "prices.py").write_text(workflow("prices"))
    ComposerTarget().deploy(project, build(project, "dev", version="2.0.0"), environment("dev", project), {})
    copy_to("v2")
    partial = copy_to("v2-partial")
    release = json.loads((partial / ".bigflow" / "current.json").read_text())["release"]
    (partial / ".bigflow" / "releases" / release / "prices.py.src").unlink()
    return folders


@pytest.fixture(scope="module")
def bags(folders, tmp_path_factory) -> dict[int, dict[str, dict]]:
    root = tmp_path_factory.mktemp("composer-dagbags")
    return airflow_venvs.dagbags(root, folders)


def images(bag: dict) -> dict[str, str]:
    """DAG id -> the version of the image its job 'extract' runs."""
    return {dag_id: dag["tasks"]["extract"]["image"].rsplit(":", 1)[1] for dag_id, dag in bag["dags"].items()}


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_airflow_sees_exactly_one_release(bags, folders, major):
    bag = bags[major]
    for name in folders:
        assert bag[name]["import_errors"] == {}, name
    assert images(bag["v1"]) == {"orders": "1.0.0", "users": "1.0.0"}
    assert images(bag["v2"]) == {"orders": "2.0.0", "prices": "2.0.0"}
    assert images(bag["v2-partial"]) == {"orders": "1.0.0", "users": "1.0.0"}  # never a mix
    loader = str(folders["v2"] / "shop" / "bigflow_dags.py")
    assert {dag["fileloc"] for dag in bag["v2"]["dags"].values()} == {loader}


@pytest.mark.parametrize("major", [2, 3], ids=["airflow2", "airflow3"])
def test_a_per_dag_file_of_the_old_layout_keeps_its_dag_until_it_is_removed(bags, folders, major):
    dags = bags[major]["moving"]["dags"]
    assert images(bags[major]["moving"]) == {"orders": "1.0.0", "users": "1.0.0"}
    assert dags["orders"]["fileloc"] == str(folders["moving"] / "shop" / "orders.py")
    assert dags["users"]["fileloc"] == str(folders["moving"] / "shop" / "bigflow_dags.py")
