"""The image-exists check against a real registry (Debian's docker-registry on 127.0.0.1)."""

from __future__ import annotations

import socket
import time

import pytest

from bigflow.errors import BigflowError
from bigflow_airflow.registry import ImageRef, image_digest, require_image


@pytest.mark.parametrize(("image", "expected"), [
    ("europe-west1-docker.pkg.dev/p/repo/demo:1.2.0",
     ImageRef("europe-west1-docker.pkg.dev", "p/repo/demo", "1.2.0")),
    ("127.0.0.1:15500/demo:0-gabc", ImageRef("127.0.0.1:15500", "demo", "0-gabc")),
    ("localhost/a/b", ImageRef("localhost", "a/b", "latest")),
    ("python:3.11", ImageRef("registry-1.docker.io", "library/python", "3.11")),
    ("gcr.io/p/x@sha256:00ff", ImageRef("gcr.io", "p/x", "sha256:00ff")),
])
def test_image_references_are_parsed_like_docker_does(image, expected):
    assert ImageRef.parse(image) == expected


def test_a_pushed_image_is_found_with_its_digest(registry):
    digest = registry.push("checks/present", "1.0")
    assert image_digest(f"{registry.host}/checks/present:1.0") == digest
    assert require_image(f"{registry.host}/checks/present:1.0") == digest


def test_a_missing_tag_or_repository_is_reported(registry):
    registry.push("checks/other", "1.0")
    assert image_digest(f"{registry.host}/checks/other:2.0") is None
    with pytest.raises(BigflowError, match=r"image .*/checks/nothing:1.0 is not in its registry; push it first"):
        require_image(f"{registry.host}/checks/nothing:1.0")


def test_an_unreachable_registry_is_one_line():
    with pytest.raises(BigflowError, match=r"^registry 127.0.0.1:9 is unreachable to check 127.0.0.1:9/x:1 "
                                           r"\(http://127.0.0.1:9\): \[Errno 111\] Connection refused$"):
        image_digest("127.0.0.1:9/x:1", timeout=2)


def test_a_registry_that_never_answers_is_one_line_in_bounded_time():
    with socket.socket() as silent:  # listening: the kernel accepts the connection, nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(BigflowError) as error:
            image_digest(f"{host}/x:1", timeout=1)
        assert time.monotonic() - started < 3
    assert str(error.value) == f"registry {host} is unreachable to check {host}/x:1 (http://{host}): no answer within 1 s"
