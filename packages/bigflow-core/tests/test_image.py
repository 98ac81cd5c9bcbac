"""``bigflow build image`` / ``bigflow deploy image`` against a real Docker engine and a real registry.

Needs what ``scripts/setup.d/10-docker.sh`` provides: Debian's dockerd running with its socket in
``$BIGFLOW_DOCKER_STATE/docker.sock`` (default /var/cache/bigflow-ci/docker), the base image
``local/python:3.11-bookworm``, and Debian's ``docker-registry`` (started here on 127.0.0.1:15000).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from bigflow.artifacts import Manifest
from bigflow.builders.image import DEFAULT_DOCKERFILE
from bigflow.testing.terminal import on_a_terminal

STATE = Path(os.environ.get("BIGFLOW_DOCKER_STATE", "/var/cache/bigflow-ci/docker"))
DOCKER_HOST = f"unix://{STATE / 'docker.sock'}"
BASE = "local/python:3.11-bookworm"
REGISTRY = "127.0.0.1:15000"
BIGFLOW = Path(sys.executable).parent / "bigflow"
SETUP = "run 'bash scripts/setup.d/10-docker.sh' (as root) to install and start it"
NAME = f"shop{os.getpid()}"  # the project, its package and its image: unique to this test run
API_TOKEN = "tok-8f3a1c9e5b"  # secret settings in pyproject.toml: a plain one, ...
SIGNING_KEY = "sk-5e0b9d2f7a"  # ... a multi-line string, ...
WAREHOUSE_PASSWORD = "pw-9c4f1a7e3d"  # ... a key of an inline table ...
DB_PASSWORD = "pw-2d7e4b6a0c"  # ... and one from the environment (bf_db_password) while the image is built


def bigflow(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIGFLOW), *args], cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env={**os.environ, "DOCKER_HOST": DOCKER_HOST, "BIGFLOW_LOAD_PLUGINS": "", **(env or {})})


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root, check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def client():
    import docker

    if not (STATE / "docker.sock").exists():
        pytest.fail(f"no Docker engine socket at {STATE / 'docker.sock'}: {SETUP}")
    engine = docker.DockerClient(base_url=DOCKER_HOST)
    try:
        engine.images.get(BASE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"base image {BASE} is missing: {SETUP}")
    return engine


@pytest.fixture(scope="module")
def built(client, tmp_path_factory):
    """The example project (start-project, tag 1.0.0), its image built cold with --export-tar."""
    root = tmp_path_factory.mktemp("image") / NAME
    ok(bigflow(root.parent, "start-project", NAME, "--no-input"))
    pyproject = root / "pyproject.toml"
    text = "".join(line for line in pyproject.read_text().splitlines(keepends=True)
                   if not line.startswith("required-plugins"))  # the plugins are not loaded here
    pyproject.write_text(text.replace(
        "[tool.bigflow.environments.dev]\n",
        f'[tool.bigflow.environments.dev]\ndocker_repository = "{REGISTRY}/{NAME}"\napi_token = "{API_TOKEN}"\n'
        f'# a comment that repeats it: {API_TOKEN}\n'
        f'signing_key = """\n{SIGNING_KEY}\n"""\nwarehouse = {{ user = "etl", password = "{WAREHOUSE_PASSWORD}" }}\n'))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    git(root, "tag", "1.0.0")
    remove_images(client)  # a cold build: no image of an earlier test run
    done = ok(bigflow(root, "build", "image", "--base-image", BASE, "--export-tar",
                      env={"bf_db_password": DB_PASSWORD}))
    yield root, done
    remove_images(client)
    client.images.prune(filters={"dangling": True})  # what failed builds left


def remove_images(client) -> None:
    """Untag this run's images (the project's before the dependencies image they are built on): an image goes
    with its last tag, and stays while another image still builds on it."""
    tags = [t for name in (NAME, f"{REGISTRY}/{NAME}") for i in client.images.list(name=name) for t in i.tags
            if t.rpartition(":")[0] == name]
    for tag in sorted(set(tags), key=lambda t: ":deps-" in t):
        client.images.remove(tag)


def image_record(root: Path):
    (image,) = Manifest.read(root).of_kind("image")
    return image


def test_image_is_tagged_with_the_version_and_runs_a_job_offline_as_non_root(client, built):
    root, done = built
    assert "  Step 1/" in done.stderr  # progress is shown
    image = image_record(root)
    assert image.name == f"{NAME}:1.0.0"
    assert image.details["wheel"] == f"{NAME}-1.0.0-py3-none-any.whl"
    found = client.images.get(f"{NAME}:1.0.0")
    assert found.id == image.digest
    assert found.attrs["Config"]["User"] == "bigflow"
    assert found.attrs["Config"]["Entrypoint"] == ["bigflow"]
    output = client.containers.run(f"{NAME}:1.0.0", ["run", "--job", "hello.count_words", "--runtime", "2026-01-01"],
                                   network_mode="none", remove=True, stdout=True, stderr=True,
                                   environment={"KUBERNETES_SERVICE_HOST": "10.0.0.1"}).decode()  # as in a pod
    assert "count_words  success" in output
    assert '"workflow_id": "hello"' in output  # JSON logs inside a pod, with bigflow's fields
    whoami = client.containers.run(f"{NAME}:1.0.0", [], entrypoint=["id", "-u"], network_mode="none", remove=True)
    assert whoami.decode().strip() == "10001"


def test_no_secret_value_is_in_the_image_its_context_or_the_build_output(client, built):
    root, done = built
    found = client.images.get(f"{NAME}:1.0.0")
    inspected = json.dumps([found.attrs, client.api.history(found.id)])  # labels, env, build steps
    secrets = (API_TOKEN, SIGNING_KEY, WAREHOUSE_PASSWORD, DB_PASSWORD)
    assert all(secret in (root / "pyproject.toml").read_text() for secret in secrets[:3])  # really in the project
    for secret in secrets:
        assert secret not in inspected
        assert secret not in done.stdout + done.stderr
    context = [p for p in (root / "build").rglob("*") if p.is_file() and not p.name.endswith(".tar")]
    assert [p for p in context if any(secret.encode() in p.read_bytes() for secret in secrets)] == []
    # every file of the app dir (/app, its pyproject.toml and the installed package it links to): grep exits 1
    grep = client.containers.run(f"{NAME}:1.0.0", ["-c", f"grep -rRlF {' '.join(f'-e {s}' for s in secrets)} /app; "
                                 "echo $?"], entrypoint=["sh"], network_mode="none", remove=True).decode()
    assert grep.strip() == "1"
    in_image = client.containers.run(f"{NAME}:1.0.0", ["/app/pyproject.toml"], entrypoint=["cat"],
                                     network_mode="none", remove=True).decode()
    def dev(text: str) -> dict:
        return tomllib.loads(text)["tool"]["bigflow"]["environments"]["dev"]

    kept = {k: v for k, v in dev((root / "pyproject.toml").read_text()).items() if k not in ("api_token", "signing_key")}
    assert dev(in_image) == {**kept, "warehouse": {"user": "etl"}}  # every other value intact
    assert "# dev.api_token: secret, left out of the build (set bf_api_token where it runs)" in in_image
    assert "# a comment that repeats it: ***" in in_image
    assert ("pyproject.toml: environment 'dev', key 'warehouse.password': a secret, left out of the image (the "
            "container needs bf_warehouse)") in done.stderr


def test_export_tar_holds_the_tagged_image(built):
    root, _ = built
    tar_path = root / "build/image-1.0.0.tar"
    (record,) = Manifest.read(root).of_kind("image-tar")
    assert record.path == "build/image-1.0.0.tar" and record.details["image"] == f"{NAME}:1.0.0"
    with tarfile.open(tar_path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
    assert manifest[0]["RepoTags"] == [f"{NAME}:1.0.0"]


def test_a_code_change_rebuilds_only_the_project_layers(client, built):
    root, cold = built
    assert "Building the dependencies image" in cold.stderr
    before = client.images.get(f"{NAME}:1.0.0").attrs["RootFS"]["Layers"]
    module = root / NAME / "hello_workflow.py"
    module.write_text(module.read_text() + "# one line\n")
    (root / "Dockerfile").unlink()  # and core's default Dockerfile is used instead of the project's copy
    done = ok(bigflow(root, "build", "image", "--base-image", BASE))
    assert (root / "build/image/context/Dockerfile").read_text() == DEFAULT_DOCKERFILE.read_text()
    image = image_record(root)
    assert image.details["version"].startswith("1.0.0.dev0+g")  # a dirty tree
    assert image.details["dependencies_built"] is False
    assert "Installing the locked dependencies" not in done.stderr
    after = client.images.get(image.digest).attrs["RootFS"]["Layers"]
    shared = len(client.images.get(image.details["dependencies_image"]).attrs["RootFS"]["Layers"])
    # base, venv + user, dependencies and their bytecode: the dependencies image, shared; the project's: new
    assert after[:shared] == before[:shared]
    assert after[shared:] != before[shared:] and len(after) > shared


def test_a_failing_dockerfile_names_the_step_and_keeps_the_previous_image(built, tmp_path):
    root, _ = built
    before = (root / "build/manifest.json").read_text()
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG DEPS_IMAGE\nFROM ${DEPS_IMAGE}\nRUN echo preparing\nRUN exit 3\n")
    done = bigflow(root, "build", "image", "--base-image", BASE, "--dockerfile", str(dockerfile))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "Error: image build failed at step 4/4 'RUN exit 3': "
        "The command '/bin/sh -c exit 3' returned a non-zero code: 3")
    assert (root / "build/manifest.json").read_text() == before


def test_a_run_step_without_network_says_how_to_give_it_one(built, tmp_path):
    """The engine of scripts/setup has no bridge network: a RUN step that resolves a host fails, and the error
    names the way out; BIGFLOW_DOCKER_NETWORK=host (the default of --network) is that way."""
    root, _ = built
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG DEPS_IMAGE\nFROM ${DEPS_IMAGE}\n"
                          "RUN python3 -c \"import socket; socket.getaddrinfo('deb.debian.org', 80)\"\n")
    args = ("build", "image", "--base-image", BASE, "--dockerfile", str(dockerfile))
    done = bigflow(root, *args, env={"BIGFLOW_DOCKER_NETWORK": ""})
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith(
        "(its RUN step had no network: build with --network host, or set BIGFLOW_DOCKER_NETWORK=host)")
    try:
        ok(bigflow(root, *args, env={"BIGFLOW_DOCKER_NETWORK": "host"}))
    finally:
        ok(bigflow(root, "build", "image", "--base-image", BASE))  # the project's own image again (cached)


def test_no_engine_is_a_one_line_error_with_how_to_start_one(built, tmp_path):
    root, _ = built
    before = (root / "build/manifest.json").read_text()
    done = bigflow(root, "build", "image", env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"Error: no Docker engine answers at unix://{tmp_path}/none.sock: start one (Docker Desktop, or "
        "'sudo systemctl start docker'), or set DOCKER_HOST to a running engine's socket")
    assert (root / "build/manifest.json").read_text() == before


def test_an_engine_that_never_answers_is_one_line_in_bounded_time(built, tmp_path):
    from test_image_engine import silent_unix_socket

    root, _ = built
    with silent_unix_socket(tmp_path / "silent.sock") as path:
        started = time.monotonic()
        done = bigflow(root, "build", "image", env={"DOCKER_HOST": f"unix://{path}"})
        elapsed = time.monotonic() - started
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"Error: the Docker engine at unix://{path} did not answer within "
                                                   "10 s: ")
    assert elapsed < 60, elapsed


def test_quiet_shows_no_docker_steps_and_no_build_arg_warning(built):
    root, _ = built
    done = ok(bigflow(root, "build", "image", "-q", "--base-image", BASE))
    assert not [line for line in done.stderr.splitlines() if "Step " in line or "[Warning]" in line
                or line.startswith(("==>", "Building", "Built"))], done.stderr


def test_a_build_shows_its_progress_on_a_terminal_only(built):
    root, cold = built
    building = f"building {NAME}:"  # the progress line, with the current Docker step
    assert building not in cold.stderr and "installing the locked dependencies" not in cold.stderr  # piped
    assert "\x1b[" not in cold.stdout + cold.stderr
    argv = [str(BIGFLOW), "build", "image", "--base-image", BASE]
    environ = {"DOCKER_HOST": DOCKER_HOST, "BIGFLOW_LOAD_PLUGINS": ""}
    code, shown = on_a_terminal(argv, env=environ, cwd=root)
    assert code == 0 and building in shown and "0:00:" in shown, shown
    code, quiet = on_a_terminal([*argv, "-q"], env=environ, cwd=root)
    assert code == 0 and building not in quiet, quiet


def start_registry(directory: Path, *, with_auth: bool = False) -> subprocess.Popen:
    """Debian's docker-registry on 127.0.0.1:15000; ``with_auth``: it knows no user, so every push is refused."""
    config = directory / "config.yml"
    (directory / "htpasswd").write_text("")
    config.write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n"
        f"  filesystem:\n    rootdirectory: {directory / 'data'}\n"
        + (f"auth:\n  htpasswd:\n    realm: test\n    path: {directory / 'htpasswd'}\n" if with_auth else "")
        + f"http:\n  addr: {REGISTRY}\n"
    )
    if not Path("/usr/bin/docker-registry").exists():
        pytest.fail(f"/usr/bin/docker-registry is missing: {SETUP}")
    process = subprocess.Popen(["/usr/bin/docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(tuple(REGISTRY.split(":")), timeout=0.2).close()  # type: ignore[arg-type]
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail(f"docker-registry did not listen on {REGISTRY} (is the port taken?)")


@pytest.fixture
def registry(tmp_path):
    process = start_registry(tmp_path)
    yield
    process.terminate()
    process.wait(10)


@pytest.fixture
def refusing_registry(tmp_path):
    process = start_registry(tmp_path, with_auth=True)
    yield
    process.terminate()
    process.wait(10)


def registry_digest(reference: str) -> str:
    repository, tag = reference.removeprefix(f"{REGISTRY}/").split(":")
    request = urllib.request.Request(f"http://{REGISTRY}/v2/{repository}/manifests/{tag}", method="HEAD", headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def test_deploy_image_pushes_version_and_latest_and_verifies_the_digest(built, registry):
    root, _ = built
    image = image_record(root)
    planned = ok(bigflow(root, "plan", "image", "--config", "dev"))
    assert planned.stdout.splitlines() == ["image:", f"  + {REGISTRY}/{NAME}:{image.details['tag']}"]
    done = ok(bigflow(root, "deploy", "image", "--config", "dev", "--latest", "--json"))
    (plan,) = json.loads(done.stdout)
    pushed = {entry.split("@")[0]: entry.split("@")[1] for entry in plan["add"]}
    version_ref, latest_ref = f"{REGISTRY}/{NAME}:{image.details['tag']}", f"{REGISTRY}/{NAME}:latest"
    assert set(pushed) == {version_ref, latest_ref}
    assert registry_digest(version_ref) == pushed[version_ref] == registry_digest(latest_ref)
    again = ok(bigflow(root, "plan", "image", "--config", "dev", "--latest"))
    assert again.stdout.splitlines() == ["image:", f"  = {version_ref}", f"  = {latest_ref}"]


def test_a_push_refused_by_the_registry_is_one_line(built, refusing_registry):
    root, _ = built
    image = image_record(root)
    done = bigflow(root, "deploy", "image", "--config", "dev")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"Error: the registry refused the push of {REGISTRY}/{NAME}:{image.details['tag']}: no basic auth credentials")


def test_deploy_to_an_environment_without_a_repository_says_where_to_set_it(built):
    root, _ = built
    done = bigflow(root, "deploy", "image", "--config", "prod", "--yes")
    assert done.stderr.splitlines()[-1] == (
        "Error: environment 'prod' has no docker_repository: set it in [tool.bigflow.environments.prod] "
        "of pyproject.toml")
