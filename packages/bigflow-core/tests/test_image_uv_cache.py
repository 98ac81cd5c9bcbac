"""The image builder's install step and uv's cache, with real uv against a real (local) package index.

A source-only distribution (pyspark is one: its sdist is 430 MB, built 1.3 GB) is built by uv into a
revision of its cache. When the index sends no caching headers (no Cache-Control, ETag or Last-Modified:
what the PyPI mirror of the CI machine sends, measured with ``curl -sI``), every ``uv pip compile`` that
locks it downloads the sdist again into a new revision, and an install that then finds no wheel built in
that revision builds it again into one more; uv removes neither. The index here serves the same way.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bigflow.builders import run_tool, uv_binary
from bigflow.builders.image import BaseInfo, install_locked
from bigflow.builders.requirements import lock
from bigflow.project import Project

PAYLOAD_BYTES = 4 * 1024 * 1024  # incompressible: a rebuild of the sdist shows in the cache's size
BASE = BaseInfo(image="local/python:3.11-bookworm", image_id="sha256:unused", python="3.11", machine="x86_64",
                libc=["glibc", "2.36"])

# An in-tree PEP 517 backend (no build requirements, so nothing but the local index is needed); each wheel
# it builds is a line in $BUILD_LOG.
BACKEND = '''
import base64, hashlib, io, os, tarfile, tomllib, zipfile
from pathlib import Path

def _project():
    table = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    return table["name"], table["version"]

def _metadata(name, version):
    return f"Metadata-Version: 2.2\\nName: {name}\\nVersion: {version}\\n".encode()

def build_sdist(sdist_directory, config_settings=None):
    name, version = _project()
    top = f"{name}-{version}"
    with tarfile.open(Path(sdist_directory) / f"{top}.tar.gz", "w:gz") as tar:
        for path in ("pyproject.toml", "backend.py", name):
            tar.add(path, f"{top}/{path}")
        info = tarfile.TarInfo(f"{top}/PKG-INFO")
        info.size = len(_metadata(name, version))
        tar.addfile(info, io.BytesIO(_metadata(name, version)))
    return f"{top}.tar.gz"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _project()
    with open(os.environ["BUILD_LOG"], "a") as log:
        log.write(f"{name}\\n")
    dist_info = f"{name}-{version}.dist-info"
    files = {path.as_posix(): path.read_bytes() for path in sorted(Path(name).rglob("*")) if path.is_file()}
    files[f"{dist_info}/METADATA"] = _metadata(name, version)
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = "".join(f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
                     f"{len(data)}\\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\\n").encode()
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / filename, "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    return filename
'''


class _NoCachingHeaders(SimpleHTTPRequestHandler):
    """A static index that, like the mirror, gives uv nothing to revalidate a cached response with."""

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() != "last-modified":
            super().send_header(keyword, value)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _publish(work: Path, index: Path, name: str, kind: str, payload: bytes) -> None:
    """Build the one-module project ``name`` with the in-tree backend and put its sdist or wheel on the index."""
    source = work / "sources" / name
    (source / name).mkdir(parents=True)
    (source / name / "__init__.py").write_text(f"NAME = {name!r}\n")
    (source / name / "payload.bin").write_bytes(payload)
    (source / "backend.py").write_text(BACKEND)
    (source / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0"\n\n'
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n')
    files = index / "files"
    run_tool([uv_binary(), "build", "--quiet", "--no-cache", f"--{kind}", "--out-dir", str(files), str(source)],
             cwd=work, env={"BUILD_LOG": str(work / "published.log")}, what=f"building {name}")
    links = "".join(f'<a href="/files/{path.name}#sha256={hashlib.sha256(path.read_bytes()).hexdigest()}">'
                    f"{path.name}</a>\n" for path in sorted(files.glob(f"{name}-*")))
    (index / "simple" / name).mkdir(parents=True)
    (index / "simple" / name / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")


@pytest.fixture
def index(tmp_path) -> Iterator[str]:
    """A local index: ``srconly`` (an sdist only, with an incompressible payload), ``alpha`` and ``beta``
    (wheels)."""
    root = tmp_path / "index"
    _publish(tmp_path, root, "srconly", "sdist", os.urandom(PAYLOAD_BYTES))
    for name in ("alpha", "beta"):
        _publish(tmp_path, root, name, "wheel", b"small")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_NoCachingHeaders, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


def _size(*directories: Path) -> int:
    return sum(path.lstat().st_size for directory in directories if directory.exists()
               for path in directory.rglob("*") if not path.is_symlink() and path.is_file())


def test_a_second_image_install_with_another_lock_does_not_rebuild_or_grow_the_cache(index, tmp_path,
                                                                                        monkeypatch):
    user_cache, image_cache, log = tmp_path / "uv-cache", tmp_path / "bigflow-uv", tmp_path / "builds.log"
    monkeypatch.setenv("UV_DEFAULT_INDEX", index)
    monkeypatch.setenv("UV_CACHE_DIR", str(user_cache))  # what 'bigflow build requirements' uses
    monkeypatch.setenv("BIGFLOW_UV_CACHE_DIR", str(image_cache))
    monkeypatch.setenv("BUILD_LOG", str(log))

    def build(project: str, other: str) -> tuple[Path, int, int, int]:
        """'bigflow build requirements' of a project, then the image builder's install of its lock: the
        target, the bytes the lock added to uv's cache, and the wheels built and bytes added by the install."""
        root = tmp_path / project
        root.mkdir()
        (root / "requirements.in").write_text(f"srconly\n{other}\n")
        size = _size(user_cache)
        spec, _ = lock(Project(root, {}, project))
        locked = _size(user_cache) - size
        builds, size = len(log.read_text().splitlines()) if log.exists() else 0, _size(user_cache, image_cache)
        install_locked(root / "deps", BASE, spec.lock, [])
        built = len(log.read_text().splitlines()) - builds
        return root / "deps", locked, built, _size(user_cache, image_cache) - size

    first, _, built, grown = build("one", "alpha")
    assert (first / "srconly" / "payload.bin").stat().st_size == PAYLOAD_BYTES and (first / "alpha").is_dir()
    assert built == 1 and grown > 2 * PAYLOAD_BYTES  # built once: the source unpacked, the wheel, the install
    second, locked, built, grown = build("two", "beta")
    assert locked >= PAYLOAD_BYTES  # the lock downloaded and unpacked the sdist again, as through the mirror
    assert (second / "srconly" / "payload.bin").stat().st_size == PAYLOAD_BYTES and (second / "beta").is_dir()
    assert not (second / "alpha").exists()
    assert built == 0, f"srconly was built again ({built} wheel(s)) for a lock that differs in its other package"
    assert grown < 512 * 1024, f"the caches grew by {grown} bytes"
