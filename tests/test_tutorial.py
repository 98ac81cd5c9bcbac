"""docs/tutorial.md works as written: every ```bash block, in order, in one shell, in a fresh directory.

The directory holds only ``bigflow/``, a link to this repository (the clone the tutorial starts from), so the
first block installs the packages into a fresh venv exactly as the README says; the workspace venv is not on
``PATH``. pip installs from the wheelhouse that ``scripts/wheelhouse`` builds once per ``uv.lock``
(``PIP_NO_INDEX=1``, ``PIP_FIND_LINKS``: the README's way to install without an index), so the install takes
seconds instead of minutes. Each block must exit 0, and what it prints must match the ``Output`` block the
page shows after it (the rules are in ``tutorial_blocks.py``).

The cloud is emulated, outside the page, the way a CI machine with credentials would reach it:
``STORAGE_EMULATOR_HOST`` points google-cloud-storage (the Composer bucket) at fake-gcs-server, which holds
the tutorial's bucket, and ``bf_docker_repository`` (the documented override of an environment key) sends
the image to a Docker registry on 127.0.0.1. Docker Hub's ``python:3.11-slim``, the default base image, is
the local Python base image that ``scripts/setup.d/10-docker.sh`` builds, tagged with that name in the
engine the tests use. Needs what ``bash scripts/setup`` installs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tutorial_blocks import ShellBlock, mismatch, shell_blocks

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
BUCKET = "europe-west1-acme-dev-1a2b3c-bucket"  # the tutorial's --dags-bucket
REGISTRY_PORT = 15098  # fixed, so the project's dependencies image stays cached between runs
DEFAULT_BASE = f"python:{sys.version_info[0]}.{sys.version_info[1]}-slim"

sys.path.insert(0, str(ROOT / "scripts"))
import demo  # noqa: E402 - the demo's local engines: fake-gcs-server and a Docker registry


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/bin/docker", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DOCKER_HOST": demo.DOCKER_HOST})


def default_base_image() -> None:
    """The default base image, in an engine that cannot pull from Docker Hub."""
    if docker("image", "inspect", DEFAULT_BASE).returncode != 0:
        done = docker("tag", demo.BASE_IMAGE, DEFAULT_BASE)
        assert done.returncode == 0, f"no base image {demo.BASE_IMAGE} (run bash scripts/setup): {done.stderr}"


def shell_env(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment without the workspace venv, plus a git identity and ``overrides``."""
    workspace = str(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "BIGFLOW_DISABLE_PLUGINS", "BIGFLOW_LOAD_PLUGINS")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(workspace))
    identity = {"GIT_AUTHOR_NAME": "Tutorial", "GIT_AUTHOR_EMAIL": "tutorial@example.com",
                "GIT_COMMITTER_NAME": "Tutorial", "GIT_COMMITTER_EMAIL": "tutorial@example.com"}
    # the engine scripts/setup starts has no bridge network: the scaffold's apt-get RUN step needs the host's
    return {**env, **identity, "DOCKER_HOST": demo.DOCKER_HOST, "BIGFLOW_DOCKER_NETWORK": "host", **overrides}


def shell_script(blocks: list[ShellBlock], outputs: Path) -> str:
    """One bash script: each block's output goes to its own file, and the first failing command stops it."""
    parts = ["set -eo pipefail"]
    for number, block in enumerate(blocks):
        parts += [f'exec >"{outputs}/{number}.out" 2>&1', block.script, f'touch "{outputs}/{number}.ok"']
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("cloud")
    default_base_image()
    with contextlib.ExitStack() as stack:
        storage = stack.enter_context(demo.fake_gcs(state, BUCKET))
        registry = stack.enter_context(demo.registry(state, REGISTRY_PORT))
        yield {"STORAGE_EMULATOR_HOST": storage, "bf_docker_repository": f"{registry}/shop"}


def test_the_tutorial_runs_as_written(tmp_path: Path, wheelhouse: dict[str, str], cloud: dict[str, str]) -> None:
    blocks = shell_blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) > 10 and sum(b.expected is not None for b in blocks) > 5, "the tutorial lost its blocks"
    work, outputs = tmp_path / "work", tmp_path / "outputs"
    work.mkdir()
    outputs.mkdir()
    (work / "bigflow").symlink_to(ROOT, target_is_directory=True)
    try:
        done = subprocess.run(["bash", "-c", shell_script(blocks, outputs)], cwd=work, env=shell_env({**wheelhouse, **cloud}),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=3600)
    finally:
        if (work / "shop").is_dir() and (work / ".venv" / "bin" / "bigflow").exists():  # its BigQuery emulator
            subprocess.run([str(work / ".venv" / "bin" / "bigflow"), "bigquery", "emulator", "stop"],
                           cwd=work / "shop", capture_output=True, timeout=60)
    for number, block in enumerate(blocks):
        out_file = outputs / f"{number}.out"
        printed = out_file.read_text(errors="replace") if out_file.exists() else ""
        where = f"docs/tutorial.md line {block.line}:\n{block.script}"
        assert (outputs / f"{number}.ok").exists(), \
            f"the block at {where} failed (exit {done.returncode}):\n{printed[-4000:]}{done.stderr[-1000:]}"
        if block.expected is not None:
            problem = mismatch(block.expected, printed)
            assert problem is None, f"the output of the block at {where} differs: {problem}\nIt printed:\n{printed}"
