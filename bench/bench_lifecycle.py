"""Benchmarks of the project lifecycle (issue "bigflow-core: project lifecycle"), stdlib only.

- ``build-package``: ``bigflow build package`` (tests, then wheel and sdist stamped with the git version) next
  to the same work done by hand (``pytest`` and ``uv build``) and to BigFlow 1.11.3's ``build-package``.
- ``image-rebuild``: ``bigflow build image`` after a one-line code change next to a cold build of the same
  project. Needs the Docker engine of ``scripts/setup.d/10-docker.sh``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench import BenchError, Cmd, Context, SetupError, benchmark

OVERHEAD_TARGET_S = 1.0
REBUILD_RATIO_TARGET = 0.10
DOCKER_STATE = Path(os.environ.get("BIGFLOW_DOCKER_STATE", "/var/cache/bigflow-ci/docker"))
DOCKER_HOST = os.environ.get("DOCKER_HOST") or f"unix://{DOCKER_STATE / 'docker.sock'}"
BASE_IMAGE = "local/python:3.11-bookworm"
#: Dependencies of the image benchmark's project: a typical data project's (BigQuery client and pandas).
IMAGE_DEPENDENCIES = ("google-cloud-bigquery>=3", "pandas>=2")

SETUP_PY_1X = "import bigflow.build\n\nbigflow.build.setup(name='bfbench_pkg')\n"
DEPLOYMENT_CONFIG_1X = ("from bigflow.configuration import DeploymentConfig\n\ndeployment_config = DeploymentConfig("
                        "name='dev', properties={'docker_repository': 'bfbench-pkg', 'gcp_project_id': 'p', "
                        "'dags_bucket': 'b'})\n")
TEST_1X = ("import unittest\n\nfrom bfbench_pkg import hello\n\n\nclass HelloTest(unittest.TestCase):\n"
           "    def test_hello(self):\n        self.assertEqual(hello(), 'hello')\n")


def _git(ctx: Context, root: Path, *args: str) -> None:
    ctx.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args], cwd=root)


def _committed(ctx: Context, root: Path, tag: str) -> None:
    if not (root / ".git").is_dir():
        _git(ctx, root, "init", "-q")
    _git(ctx, root, "add", "-A")
    _git(ctx, root, "commit", "-q", "--allow-empty", "-m", "bench")
    _git(ctx, root, "tag", "-f", tag)


def new_project(ctx: Context, parent: Path, name: str, dependencies: tuple[str, ...] = ()) -> Path:
    """A fresh project from ``bigflow start-project`` (core's example only), committed and tagged 1.0.0."""
    root = parent / name
    shutil.rmtree(root, ignore_errors=True)
    ctx.run([ctx.dev.bin("bigflow"), "start-project", name, "--no-input"], cwd=parent,
            env={"BIGFLOW_LOAD_PLUGINS": ""})
    if dependencies:
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text()
        added = "".join(f'    "{d}",\n' for d in dependencies)
        pyproject.write_text(text.replace("dependencies = [\n", "dependencies = [\n" + added, 1))
    _committed(ctx, root, "1.0.0")
    return root


def project_1x(ctx: Context, parent: Path) -> Path:
    """The same tiny project in BigFlow 1.x's layout (setup.py, deployment_config.py, resources/, unittest)."""
    root = parent / "bfbench-1x"
    shutil.rmtree(root, ignore_errors=True)
    files = {
        "setup.py": SETUP_PY_1X, "deployment_config.py": DEPLOYMENT_CONFIG_1X,
        "pyproject.toml": '[build-system]\nrequires = ["bigflow==1.11.3"]\nbuild-backend = "bigflow.build.meta"\n',
        "bfbench_pkg/__init__.py": "def hello():\n    return 'hello'\n", "resources/requirements.in": "",
        "test/__init__.py": "", "test/test_hello.py": TEST_1X, ".gitignore": "build/\ndist/\n*.egg-info/\n",
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    path_1x = {"PATH": f"{ctx.bf1.path / 'bin'}:{os.environ['PATH']}"}  # 1.x runs `python`, `pip-compile` from PATH
    ctx.run([ctx.bf1.bin("bigflow"), "build-requirements"], cwd=root, env=path_1x)
    _committed(ctx, root, "1.0.0")
    return root


@benchmark("build-package", title="bigflow build package vs pytest + uv build by hand, and BigFlow 1.11.3")
def build_package(ctx: Context) -> None:
    """A project fresh from `bigflow start-project` (core's example workflow and its one test), tagged 1.0.0.
    `bigflow build package` runs the tests (JUnit XML) and builds the wheel and sdist of the git version,
    running both at once and publishing to dist/ only when the tests pass. "By hand" does the same work
    sequentially: `python -m pytest` then `uv build --sdist --wheel`. The target: bigflow's overhead over the
    plain build is at most 1 s, with tests (vs pytest + uv build) and without (--skip-tests vs uv build).
    The baseline is BigFlow 1.11.3's `bigflow build-package` on the same project in 1.x's layout (setup.py,
    a unittest test, its xmlrunner and bdist_wheel)."""
    work = ctx.workdir()
    root = new_project(ctx, work, "bfbench-pkg")
    legacy = project_1x(ctx, work)
    uv = ctx.dev.bin("uv")
    out = work / "plain-dist"
    plain_build = f"{uv} build --quiet --sdist --wheel --out-dir {out} ."
    rows = ctx.compare([
        ctx.cmd("bigflow build package", ctx.dev, "bigflow", "build", "package", "--quiet", cwd=root),
        Cmd("by hand: python -m pytest && uv build --sdist --wheel", ["sh", "-c",
            f"{ctx.dev.python} -m pytest -q -p no:cacheprovider >/dev/null && {plain_build}"], ctx.dev, cwd=root),
        ctx.cmd("bigflow build package --skip-tests", ctx.dev, "bigflow", "build", "package", "--skip-tests",
                cwd=root),
        Cmd("by hand: uv build --sdist --wheel", ["sh", "-c", plain_build], ctx.dev, cwd=root),
        ctx.cmd("BigFlow 1.11.3: bigflow build-package", ctx.bf1, "bigflow", "build-package", cwd=legacy,
                role="baseline", env={"PATH": f"{ctx.bf1.path / 'bin'}:{os.environ['PATH']}"}),
    ])
    median = {row.cmd.label: row.stats.median for row in rows}
    with_tests = median["bigflow build package"] - median["by hand: python -m pytest && uv build --sdist --wheel"]
    without = median["bigflow build package --skip-tests"] - median["by hand: uv build --sdist --wheel"]
    ctx.check("overhead with tests <= 1 s", with_tests <= OVERHEAD_TARGET_S,
              f"{with_tests:+.2f} s (bigflow build package vs pytest && uv build)")
    ctx.check("overhead without tests <= 1 s", without <= OVERHEAD_TARGET_S,
              f"{without:+.2f} s (bigflow build package --skip-tests vs uv build)")
    if not (root / "dist" / "bfbench_pkg-1.0.0-py3-none-any.whl").is_file():
        raise BenchError("bigflow build package did not produce dist/bfbench_pkg-1.0.0-py3-none-any.whl")
    ctx.note("Negative overhead: bigflow runs the tests and the build at the same time (2 cores here).")


def _engine_ready(ctx: Context) -> None:
    probe = ctx.run([ctx.dev.python, "-c", "import docker; docker.DockerClient(base_url=__import__('sys').argv[1])"
                     ".images.get(__import__('sys').argv[2])", DOCKER_HOST, BASE_IMAGE], expect_rc=None)
    if probe.returncode != 0:
        raise SetupError(f"no Docker engine with the base image {BASE_IMAGE} at {DOCKER_HOST}: run "
                         "'bash scripts/setup.d/10-docker.sh' (as root), which starts one and builds the base")


def _remove_images(ctx: Context, *names: str) -> None:
    code = ("import docker, sys\nclient = docker.DockerClient(base_url=sys.argv[1])\n"
            "tags = {t for name in sys.argv[2:] for i in client.images.list(name=name) for t in i.tags\n"
            "        if t.rpartition(':')[0] == name}\n"
            "for tag in sorted(tags, key=lambda t: ':deps-' in t):\n"
            "    client.images.remove(tag)\n")
    ctx.run([ctx.dev.python, "-c", code, DOCKER_HOST, *names])


@benchmark("image-rebuild", title="bigflow build image: rebuild after a one-line code change vs a cold build")
def image_rebuild(ctx: Context) -> None:
    """A project from `bigflow start-project` plus two typical dependencies (google-cloud-bigquery, pandas),
    its lock made by `bigflow build requirements`, built on the Debian base image of scripts/setup.d/10-docker.sh.
    Cold: `bigflow build image --no-cache` with build/image removed (the dependencies image and the project's
    image built anew, every layer, the locked dependencies installed again; uv's download cache stays warm, as
    on a developer's machine). Rebuild: one line appended to the example workflow module, then `bigflow build
    image` in a second copy of the project that was built before: the dependencies image is reused, the wheel
    and the project's last layers are new (the version changes too: a dirty tree). Target: rebuild <= 10 % of cold. BigFlow 1.11.3 is not
    timed here: its build-image runs the project's own Dockerfile, whose scaffold installs the dependencies with
    pip from PyPI inside the build, which needs network access in the build container (the sandbox's TLS proxy
    refuses it) and a python:3.7 base image from Docker Hub."""
    _engine_ready(ctx)
    work = ctx.workdir()
    env = {"DOCKER_HOST": DOCKER_HOST}
    image = ["build", "image", "--base-image", BASE_IMAGE, "--quiet"]
    projects = {}
    for name in ("bfbench-cold", "bfbench-warm"):
        projects[name] = new_project(ctx, work, name, IMAGE_DEPENDENCIES)
        ctx.run([ctx.dev.bin("bigflow"), "build", "requirements"], cwd=projects[name])
        _committed(ctx, projects[name], "1.0.0")
    _remove_images(ctx, "bfbench-cold", "bfbench-warm")
    ctx.run([ctx.dev.bin("bigflow"), *image], cwd=projects["bfbench-warm"], env=env)
    module = "bfbench_warm/hello_workflow.py"
    ctx.reps, ctx.warmup = max(3, ctx.reps // 5), 1
    try:
        rows = ctx.compare([
            Cmd("cold: bigflow build image --no-cache", ["sh", "-c",
                f"rm -rf build/image && exec {ctx.dev.bin('bigflow')} {' '.join(image)} --no-cache"], ctx.dev,
                cwd=projects["bfbench-cold"], env=env),
            Cmd("rebuild: one line changed, bigflow build image", ["sh", "-c",
                f"echo \"# edit $(date +%s%N)\" >> {module} && exec {ctx.dev.bin('bigflow')} {' '.join(image)}"],
                ctx.dev, cwd=projects["bfbench-warm"], env=env),
        ], need_baseline=False)
    finally:
        _remove_images(ctx, "bfbench-cold", "bfbench-warm")
    cold, rebuild = (row.stats.median for row in rows[1:])
    ratio = rebuild / cold
    ctx.check("rebuild <= 10 % of cold", ratio <= REBUILD_RATIO_TARGET,
              f"{ratio:.1%} (rebuild {rebuild:.2f} s, cold {cold:.2f} s)")
    ctx.note("No BigFlow 1.11.3 row: see the description.")
