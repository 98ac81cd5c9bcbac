"""The ``composer`` deploy target against a real fake-gcs-server (through google-cloud-storage) and a real
registry: first deploy, no-op redeploy, changes, removals, other projects, the move from per-DAG files,
failures and concurrency. What Airflow sees is read through the real loader (composer_view)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from airflow_projects import JOBS, build, make_project
from composer_view import visible
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from bigflow.api import environment
from bigflow.errors import BigflowError
from bigflow_airflow.composer import ComposerTarget
from bigflow_airflow.releases import LOCK, POINTER

_ids = count()


def workflow(workflow_id: str, *, retries: int = 3) -> str:
    return f'''
from bigflow.workflow import Workflow
from .jobs import Step

{workflow_id} = Workflow("{workflow_id}", [Step("extract", retry_count={retries}), Step("load")])
'''


@pytest.fixture
def client(gcs_endpoint):
    return storage.Client(project="test", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": gcs_endpoint})


@pytest.fixture
def bucket(client):
    name = f"composer-{next(_ids)}"
    client.create_bucket(name)
    return client.bucket(name)


@pytest.fixture
def project(tmp_path, bucket, gcs_endpoint, registry):
    package = f"compo{next(_ids)}"
    registry.push(f"{package}/image", "1.0.0")
    registry.push(f"{package}/image", "2.0.0")
    env = {"docker_repository": f"{registry.host}/{package}/image", "dags_bucket": bucket.name,
           "storage_endpoint": gcs_endpoint}
    modules = {"jobs": JOBS, "orders": workflow("orders"), "users": workflow("users"), "stock": workflow("stock")}
    return make_project(tmp_path / "project", package, modules, {"dev": env, "prod": env}, name="shop")


def objects(bucket) -> dict[str, tuple[int, bytes]]:
    """name -> (generation, content) of every object in the bucket."""
    return {b.name: (b.generation, b.download_as_bytes()) for b in bucket.client.list_blobs(bucket.name)}


def local_files(project, manifest) -> dict[str, bytes]:
    return {a.name: (project.root / a.path).read_bytes() for a in manifest.of_kind("dag")}


def pointer(bucket) -> dict:
    return json.loads(bucket.blob(f"dags/shop/{POINTER}").download_as_bytes())


def test_first_deploy_uploads_a_release_and_switches_to_it_and_plan_changes_nothing(project, bucket, capsys):
    manifest = build(project, "dev")
    plan = ComposerTarget().plan(project, manifest, environment("dev", project), {})
    uri = f"gs://{bucket.name}/dags/shop/"
    assert plan.add == [f"{uri}orders.py", f"{uri}stock.py", f"{uri}users.py"]
    assert (plan.change, plan.remove) == ([], [])
    assert any("in the registry (sha256:" in note for note in plan.notes)
    assert objects(bucket) == {}  # plan deployed nothing

    done = ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert done.add == plan.add
    assert visible(bucket) == local_files(project, manifest)
    release = pointer(bucket)["release"]
    assert sorted(objects(bucket)) == ["dags/shop/.bigflow/current.json", *(
        f"dags/shop/.bigflow/releases/{release}/{name}.src" for name in ("orders.py", "stock.py", "users.py")),
        "dags/shop/bigflow_dags.py"]  # and the lock is gone
    assert f"release {release} (version 1.0.0) is current" in done.notes
    assert "uploading DAG files" not in capsys.readouterr().err  # the upload counter shows only on a terminal


def test_unchanged_redeploy_writes_nothing(project, bucket):
    manifest = build(project, "dev")
    ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    before = objects(bucket)
    again = ComposerTarget().deploy(project, build(project, "dev"), environment("dev", project), {})
    assert (again.add, again.change, again.remove) == ([], [], [])
    assert len(again.unchanged) == 3
    assert objects(bucket) == before  # same generations: nothing was rewritten


def test_a_changed_workflow_is_a_new_release_and_the_previous_one_is_kept(project, bucket):
    first = build(project, "dev")
    ComposerTarget().deploy(project, first, environment("dev", project), {})
    old_release = pointer(bucket)["release"]
    (project.root / project.package / "orders.py").write_text(workflow("orders", retries=7))
    manifest = build(project, "dev")
    plan = ComposerTarget().plan(project, manifest, environment("dev", project), {})
    assert plan.change == [f"gs://{bucket.name}/dags/shop/orders.py"] and not plan.add and not plan.remove
    ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert visible(bucket) == local_files(project, manifest)
    current = pointer(bucket)
    assert current["previous"]["release"] == old_release != current["release"]
    releases = {n.split("/")[4] for n in objects(bucket) if "/releases/" in n}
    assert releases == {old_release, current["release"]}

    (project.root / project.package / "orders.py").write_text(workflow("orders", retries=8))
    third = build(project, "dev")
    ComposerTarget().deploy(project, third, environment("dev", project), {})  # the oldest release goes, the one before stays
    assert {n.split("/")[4] for n in objects(bucket) if "/releases/" in n} == {current["release"],
                                                                              pointer(bucket)["release"]}


def test_a_removed_workflow_is_gone_and_other_projects_are_untouched(project, bucket):
    others = {"dags/other/orders.py": b"other project", "dags/shop2/orders.py": b"prefix twin",
              "dags/airflow_monitoring.py": b"composer's own", "data/shop/orders.py": b"not a dag"}
    for name, content in others.items():
        bucket.blob(name).upload_from_string(content)
    before = {n: v for n, v in objects(bucket).items() if n in others}
    ComposerTarget().deploy(project, build(project, "dev"), environment("dev", project), {})
    (project.root / project.package / "stock.py").unlink()
    manifest = build(project, "dev", version="2.0.0")
    plan = ComposerTarget().plan(project, manifest, environment("dev", project), {})
    assert plan.remove == [f"gs://{bucket.name}/dags/shop/stock.py"]
    ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert visible(bucket) == local_files(project, manifest)
    assert "stock.py" not in visible(bucket)
    assert {n: v for n, v in objects(bucket).items() if n in others} == before


def test_per_dag_files_of_the_layout_before_releases_are_replaced(project, bucket):
    """The first deploy over per-DAG files: the loader skips a DAG while its old file is beside it, so no DAG is
    ever defined twice; the old files go after the switch."""
    manifest = build(project, "dev")
    for name, data in local_files(project, manifest).items():
        bucket.blob(f"dags/shop/{name}").upload_from_string(b"# old " + data)
    plan = ComposerTarget().plan(project, manifest, environment("dev", project), {})
    assert len(plan.change) == 3
    ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert visible(bucket) == local_files(project, manifest)
    assert not [n for n in objects(bucket) if n.count("/") == 2 and n.endswith(".py") and "bigflow_dags" not in n]


def test_a_failure_mid_upload_leaves_the_previous_set_and_the_rerun_finishes(project, bucket, monkeypatch):
    first = build(project, "dev")
    ComposerTarget().deploy(project, first, environment("dev", project), {})
    old = visible(bucket)
    for name in ("orders", "users"):
        (project.root / project.package / f"{name}.py").write_text(workflow(name, retries=9))
    (project.root / project.package / "stock.py").unlink()
    (project.root / project.package / "prices.py").write_text(workflow("prices"))
    second = build(project, "dev", version="2.0.0")
    new = local_files(project, second)

    real_upload = storage.Blob.upload_from_string
    dag_uploads = count()

    def flaky_upload(blob, data, *args, **kwargs):
        if blob.name.endswith(".src") and next(dag_uploads) == 1:
            raise ConnectionResetError("[Errno 104] Connection reset by peer (injected)")
        return real_upload(blob, data, *args, **kwargs)

    monkeypatch.setattr(storage.Blob, "upload_from_string", flaky_upload)
    monkeypatch.setattr("bigflow_airflow.bucket.Bucket.each", _serially)
    with pytest.raises(BigflowError, match=r"unreachable at http://127.0.0.1:\d+ while uploading .*Connection reset"):
        ComposerTarget().deploy(project, second, environment("dev", project), {})
    assert visible(bucket) == old  # all of the old set
    assert f"dags/shop/{LOCK}" not in objects(bucket)  # the lock was released

    monkeypatch.setattr(storage.Blob, "upload_from_string", real_upload)
    ComposerTarget().deploy(project, second, environment("dev", project), {})  # deploying again finishes the job
    assert visible(bucket) == new


def _serially(bucket, action, names, workers=8):
    for name in names:
        action(name)


def other_checkout(project):
    """A second clone of the project (as a second CI job has), with workflow 'orders' changed."""
    import shutil

    from airflow_projects import fresh

    project = fresh(project)
    checkout = project.root.parent / "second-checkout"
    shutil.copytree(project.root, checkout)
    other = project.__class__(checkout, project.settings, project.name)
    (other.root / other.package / "orders.py").write_text(workflow("orders", retries=5))
    return other


def configured(project, lines: str):
    """The project with ``lines`` added to its dev environment, as a new process reads it."""
    from airflow_projects import fresh

    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.bigflow.environments.dev]\n",
                                                       f"[tool.bigflow.environments.dev]\n{lines}"))
    return fresh(project)


def test_two_concurrent_deploys_do_not_interleave(project, bucket, monkeypatch, tmp_path):
    first = build(project, "dev")
    other = other_checkout(project)
    second = build(other, "dev", version="2.0.0")
    real_upload = storage.Blob.upload_from_string
    uploading, proceed = threading.Event(), threading.Event()

    def paused_upload(blob, data, *args, **kwargs):
        if blob.name.endswith(".src"):
            uploading.set()
            assert proceed.wait(30)
        return real_upload(blob, data, *args, **kwargs)

    monkeypatch.setattr(storage.Blob, "upload_from_string", paused_upload)
    errors: list[BaseException] = []

    def deploy_first():
        try:
            ComposerTarget().deploy(project, first, environment("dev", project), {})
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    thread = threading.Thread(target=deploy_first)
    thread.start()
    assert uploading.wait(30)  # deploy 1 holds the lock (renewing it) and is uploading
    with pytest.raises(BigflowError, match=r"another deploy of this project is running \(.*version 1.0.0"):
        ComposerTarget().deploy(other, second, environment("dev", other), {})
    proceed.set()
    thread.join(30)
    assert not errors
    assert visible(bucket) == local_files(project, first)  # deploy 2 changed nothing

    monkeypatch.setattr(storage.Blob, "upload_from_string", real_upload)
    ComposerTarget().deploy(other, second, environment("dev", other), {})
    assert visible(bucket) == local_files(other, second)


def test_a_lock_nobody_renews_is_taken_over_after_its_lease(project, bucket):
    started = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    bucket.blob(f"dags/shop/{LOCK}").upload_from_string(json.dumps({"by": "ci@gone", "started": started,
                                                                    "host": "elsewhere", "lease_sec": 1}))
    manifest = build(project, "dev")
    ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert visible(bucket) == local_files(project, manifest)
    assert f"dags/shop/{LOCK}" not in objects(bucket)


def test_a_pointer_switched_by_someone_else_during_the_deploy_is_not_overwritten(project, bucket, monkeypatch):
    from bigflow_airflow.releases import Releases

    ComposerTarget().deploy(project, build(project, "dev"), environment("dev", project), {})
    (project.root / project.package / "users.py").write_text(workflow("users", retries=6))
    manifest = build(project, "dev", version="2.0.0")
    real_deployed = Releases.deployed

    def read_then_someone_switches(releases):
        found = real_deployed(releases)
        bucket.blob(f"dags/shop/{POINTER}").upload_from_string(json.dumps({**found.pointer, "by": "hand"}))
        return found

    monkeypatch.setattr(Releases, "deployed", read_then_someone_switches)
    with pytest.raises(BigflowError, match=r"current.json was changed by someone else during this deploy; nothing "
                                           r"was switched"):
        ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert pointer(bucket)["by"] == "hand"


def test_a_missing_image_stops_the_deploy_before_any_upload(project, bucket):
    manifest = build(project, "dev", version="3.0.0")  # never pushed
    with pytest.raises(BigflowError, match=r"image .*/image:3.0.0 is not in its registry; push it first"):
        ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    assert objects(bucket) == {}
    plan = ComposerTarget().plan(project, manifest, environment("dev", project), {})
    assert any("NOT in the registry" in note for note in plan.notes)


@pytest.mark.parametrize(("change", "message"), [
    ({"dags_bucket": None}, r"configuration key 'dags_bucket' of environment 'dev' is not set"),
    ({"dags_bucket": "gs://bucket/dags"}, r"dags_bucket of environment 'dev' must be a bucket name"),
    ({"dags_bucket": "no-such-bucket"}, r"bucket gs://no-such-bucket does not exist"),
    ({"storage_endpoint": "http://127.0.0.1:9", "storage_timeout_sec": 1},
     r"bucket gs://.* is unreachable at http://127.0.0.1:9 while (listing the DAG files|locking the deploy): \[Errno 111\] "
     r"Connection refused$"),
])
def test_bad_bucket_settings_are_one_line_errors(project, bucket, change, message):
    from airflow_projects import fresh

    manifest = build(project, "dev")
    pyproject = project.root / "pyproject.toml"
    text = pyproject.read_text()
    for key, value in change.items():
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} ="))
        text = text.replace("[tool.bigflow.environments.dev]\n", "[tool.bigflow.environments.dev]\n" + (
            f"{key} = {json.dumps(value)}\n" if value is not None else ""))
    pyproject.write_text(text + "\n")
    for action in (ComposerTarget().plan, ComposerTarget().deploy):
        with pytest.raises(BigflowError, match=message) as error:
            action(fresh(project), manifest, environment("dev", fresh(project)), {})
        assert "\n" not in str(error.value)
    assert objects(bucket) == {}


def test_dags_built_for_another_environment_or_edited_after_the_build_are_refused(project, bucket):
    manifest = build(project, "prod")
    with pytest.raises(BigflowError, match=r"built for environment prod, not 'dev'; run 'bigflow build dags "
                                           r"--config dev'"):
        ComposerTarget().deploy(project, manifest, environment("dev", project), {})
    (project.root / manifest.of_kind("dag")[0].path).write_text("# edited by hand\n")
    with pytest.raises(BigflowError, match=r"changed since it was built"):
        ComposerTarget().deploy(project, manifest, environment("prod", project), {})
    manifest.artifacts = []
    with pytest.raises(BigflowError, match=r"the build manifest has no DAG files"):
        ComposerTarget().plan(project, manifest, environment("prod", project), {})
    assert objects(bucket) == {}


def test_a_holder_that_cannot_renew_its_lease_stops_before_the_switch(project, bucket, monkeypatch):
    import time

    from bigflow_airflow.bucket import Bucket

    project = configured(project, "deploy_lock_lease_sec = 0.6\n")
    ComposerTarget().deploy(project, build(project, "dev"), environment("dev", project), {})
    old = visible(bucket)
    (project.root / project.package / "orders.py").write_text(workflow("orders", retries=4))
    second = build(project, "dev")
    real_write = Bucket.write

    def write(self, name, data, what, **kwargs):
        if what == "renewing the deploy lock":
            raise BigflowError("bucket unreachable (injected)")
        if name.endswith(".src"):
            time.sleep(0.5)  # a slow upload: the lease runs out meanwhile
        return real_write(self, name, data, what, **kwargs)

    monkeypatch.setattr(Bucket, "write", write)
    with pytest.raises(BigflowError, match=r"^lost the deploy lock gs://.*/dags/shop/.bigflow/deploy.lock: not "
                                           r"renewed for 0.4 s \(the bucket did not answer\); stopped before changing "
                                           r"anything more$"):
        ComposerTarget().deploy(project, second, environment("dev", project), {})
    assert visible(bucket) == old


def test_with_deploy_lock_timeout_sec_the_second_deploy_waits_for_the_first(project, bucket, monkeypatch):
    project = configured(project, "deploy_lock_timeout_sec = 60\ndeploy_lock_lease_sec = 2\n")
    first = build(project, "dev")
    other = other_checkout(project)
    second = build(other, "dev", version="2.0.0")
    real_upload = storage.Blob.upload_from_string
    uploading, proceed = threading.Event(), threading.Event()

    def paused_upload(blob, data, *args, **kwargs):
        if blob.name.endswith(".src") and not proceed.is_set():
            uploading.set()
            assert proceed.wait(30)
        return real_upload(blob, data, *args, **kwargs)

    monkeypatch.setattr(storage.Blob, "upload_from_string", paused_upload)
    errors: list[BaseException] = []
    dev = environment("dev", project)
    thread = threading.Thread(target=lambda: _record(errors, ComposerTarget().deploy, project, first, dev, {}))
    thread.start()
    assert uploading.wait(30)
    threading.Timer(1.5, proceed.set).start()  # the first deploy goes on while the second one waits
    ComposerTarget().deploy(other, second, environment("dev", other), {})
    thread.join(30)
    assert not errors
    assert visible(bucket) == local_files(other, second)  # one complete set: the one deployed last


def _record(errors, function, *args):
    try:
        function(*args)
    except BaseException as error:  # noqa: BLE001 - reported by the test
        errors.append(error)
