"""The Docker engine does not hang ``bigflow build image``: no socket, and a socket that accepts connections and
never answers, are one-line ``EngineUnavailable`` errors naming the socket, within a bounded time."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bigflow.builders import image
from bigflow.builders.image import EngineUnavailable, engine
from bigflow.errors import BigflowError


@contextlib.contextmanager
def silent_unix_socket(path: Path) -> Iterator[Path]:
    """A Unix socket that accepts every connection and never writes a byte."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


@pytest.fixture
def silent_socket(tmp_path):
    with silent_unix_socket(tmp_path / "silent.sock") as path:
        yield path


def test_an_engine_that_never_answers_fails_in_bounded_time_naming_the_socket(silent_socket, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{silent_socket}")
    monkeypatch.setattr(image, "ENGINE_ANSWER_SEC", 1)
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as error:
        engine()
    assert time.monotonic() - started < 5  # the client's timeout, once (or twice: version, then ping)
    assert str(error.value) == (f"the Docker engine at unix://{silent_socket} did not answer within 1 s: start one "
                                "(Docker Desktop, or 'sudo systemctl start docker'), or set DOCKER_HOST to a running "
                                "engine's socket")
    assert isinstance(error.value, BigflowError)


def test_no_socket_is_engine_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    with pytest.raises(EngineUnavailable, match=rf"^no Docker engine answers at unix://{tmp_path}/none.sock: "):
        engine()
