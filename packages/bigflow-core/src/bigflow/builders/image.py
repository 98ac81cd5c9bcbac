"""``bigflow build image`` and ``bigflow deploy image``: the project's Docker image, built and pushed through
a Docker engine with the Docker SDK (``pip install 'bigflow-core[docker]'``, imported only here).

Build, in two images: the locked dependencies are installed *on the host* by uv, from the hashed lock, for
the base image's Python and platform, into a dependencies image (``templates/image/Dockerfile.deps``: base,
``/opt/venv``, the non-root user, dependencies) tagged ``<docker_repository>:deps-<hash>`` and built only when
the lock, the base image or that file changes. The project's Dockerfile (its own, or core's default,
``templates/project/Dockerfile``) builds FROM it with a small context: the installed wheel, the ``bigflow``
command and pyproject.toml without its secret values (``build_secrets``; literal secret values in code configs
are reported); so a code change rebuilds only those last layers and sends only kilobytes to the engine, and no
build step needs network or index credentials. The image runs as ``bigflow`` (uid 10001) with entrypoint
``bigflow``, and is tagged ``<docker_repository>:<version with + -> ->``.

Deploy: the image recorded in the build manifest is tagged for the environment's ``docker_repository``,
pushed (with ``latest`` on request), and the digest the registry reports is checked against the pushed one.
Registry credentials come from Docker's configuration and credential helpers, or for Google registries from
Application Default Credentials; they are kept in memory only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bigflow import verbosity
from bigflow.artifacts import Artifact, Manifest, Plan, file_digest
from bigflow.builders import run_tool, uv_binary
from bigflow.builders.build_secrets import literal_secrets, pyproject_without_secrets, secret_names
from bigflow.contracts import Option
from bigflow.errors import BigflowError, ConfigError
from bigflow.output import progress, say, warn
from bigflow.scaffold import TEMPLATES

DEFAULT_DOCKERFILE = TEMPLATES / "project" / "Dockerfile"
DEPS_DOCKERFILE = TEMPLATES / "image" / "Dockerfile.deps"
WORK = Path("build") / "image"
VENV = "/opt/venv"
_REPOSITORY = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]|__|-+)?[a-z0-9]*)*$")
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_PROBE = (
    "import json, platform, sys; "
    "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'machine': platform.machine(), "
    "'libc': platform.libc_ver()}))"
)


def image_tag(version: str) -> str:
    """A Docker tag for a project version (``+`` is not allowed in tags)."""
    return version.replace("+", "-")


ENGINE_ANSWER_SEC = 10  # the engine's first answer (its API version); builds then allow BUILD_READ_SEC per read
BUILD_READ_SEC = 600


class EngineUnavailable(BigflowError):
    """No Docker engine answers at DOCKER_HOST: ``bigflow build`` can go on with the builders that need none."""


def engine() -> Any:
    """A Docker client of the engine at DOCKER_HOST (or the default socket); ``EngineUnavailable`` (one line,
    naming the socket) when none answers within ``ENGINE_ANSWER_SEC`` — an engine that accepts the connection
    and never answers included."""
    try:
        import docker
    except ImportError:
        raise BigflowError("building images needs the Docker SDK: pip install 'bigflow-core[docker]'") from None
    import requests

    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(timeout=ENGINE_ANSWER_SEC)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError) as error:
        silent = "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower()
        problem = (f"the Docker engine at {host} did not answer within {ENGINE_ANSWER_SEC} s" if silent else
                   f"no Docker engine answers at {host}")
        raise EngineUnavailable(f"{problem}: start one (Docker Desktop, or 'sudo systemctl start docker'), or set "
                                "DOCKER_HOST to a running engine's socket") from None
    client.api.timeout = BUILD_READ_SEC
    return client


def docker_repository(project: Any, env: Any, override: str | None = None, *, required: bool = False) -> str:
    """The image repository: ``override``, the ``docker_repository`` of ``env`` (an Environment), else the
    project name."""
    repository = override
    if repository is None:
        repository = env.str("docker_repository")
        if repository is None and required:
            raise BigflowError(
                f"environment {env.name!r} has no docker_repository: set it in "
                f"[tool.bigflow.environments.{env.name}] of pyproject.toml"
            )
    repository = str(repository or re.sub(r"[^a-z0-9._-]+", "-", project.name.lower()))
    if not _REPOSITORY.match(repository):
        raise BigflowError(
            f"docker_repository {repository!r} is not a valid image repository: use lowercase letters, digits, "
            "'.', '-', '_' and '/' (e.g. 'europe-west1-docker.pkg.dev/my-project/images/my-app')"
        )
    return repository


# -- build ---------------------------------------------------------------------------------------------


@dataclass
class BaseInfo:
    """What the base image runs: its Python and platform (probed once per base image id)."""

    image: str
    image_id: str
    python: str
    machine: str
    libc: list[str]

    @property
    def site_packages(self) -> str:
        return f"{VENV}/lib/python{self.python}/site-packages"

    @property
    def uv_platform(self) -> str:
        arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(self.machine, self.machine)
        if self.libc and self.libc[0] == "glibc":
            major, minor = (int(p) for p in self.libc[1].split(".")[:2])
            return f"{arch}-manylinux_2_{28 if (major, minor) >= (2, 28) else 17}"
        return f"{arch}-unknown-linux-musl"


def probe_base(client: Any, image: str, work: Path) -> BaseInfo:
    """The base image's Python version and platform (pulled when missing; cached in build/image/base.json)."""
    import docker

    try:
        found = client.images.get(image)
    except docker.errors.ImageNotFound:
        say(f"Pulling the base image {image}")
        try:
            found = client.images.pull(image)
        except docker.errors.APIError as error:
            raise BigflowError(f"base image {image!r} is not available: {error.explanation or error}") from None
    cache = work / "base.json"
    try:
        cached = json.loads(cache.read_text())
        if cached.get("image_id") == found.id and cached.get("image") == image:
            return BaseInfo(**cached)
    except (OSError, ValueError, TypeError):
        pass
    try:
        output = client.containers.run(found.id, entrypoint=["python3", "-c", _PROBE], network_mode="none",
                                       remove=True, user="0")
    except docker.errors.DockerException as error:
        raise BigflowError(f"base image {image!r} has no working python3: {str(error).splitlines()[0]}") from None
    info = BaseInfo(image=image, image_id=found.id, **json.loads(output.decode().strip().splitlines()[-1]))
    work.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(info.__dict__))
    return info


def project_wheel(project: Any, env: Any, version: str) -> Path:
    """The wheel of ``version`` from the build manifest; built (tests not run) when it is not there."""
    from bigflow.builders.package import PackageBuilder

    manifest = Manifest.read(project.root, required=False)
    if manifest is not None:
        for artifact in manifest.of_kind("wheel"):
            path = project.root / (artifact.path or "")
            if (artifact.details.get("version") == version and path.is_file()
                    and file_digest(path) == artifact.digest):
                return path
    say(f"No wheel of version {version} in build/manifest.json; building it (tests not run: "
        "'bigflow build package' runs them)")
    artifacts = PackageBuilder().build(project, env, {"version": version, "skip_tests": True, "quiet": False})
    if manifest is None or manifest.version != version:
        manifest = Manifest(project.name, version)
    manifest.replace(["wheel", "sdist"], artifacts)
    manifest.write(project.root)
    return project.root / str(artifacts[0].path)


UV_CACHE_VARIABLE = "BIGFLOW_UV_CACHE_DIR"


def image_uv_cache() -> Path:
    """The uv cache of the image builder's installs: ``$BIGFLOW_UV_CACHE_DIR``, else ``bigflow/uv`` in
    ``$XDG_CACHE_HOME`` (default ``~/.cache``).

    Not uv's own cache: there every ``uv pip compile`` (``bigflow build requirements``) of a lock holding a
    source-only package (pyspark) re-downloads its sdist as a new cache revision when the index sends no
    caching headers, and the next install found no wheel built in that revision, so it built the sdist again
    into one more (pyspark 4.0.1: +0.46 GB per lock, +1.8 GB per install after one; uv removes neither).
    Only installs use this cache, so a source-only package is built once per version and sdist, and every
    later install, whatever else its lock holds, takes the wheel built the first time.
    """
    given = os.environ.get(UV_CACHE_VARIABLE)
    if given:
        return Path(given)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bigflow" / "uv"


def _uv_target(target: Path, base: BaseInfo, *args: str) -> None:
    run_tool([uv_binary(), "pip", "install", "--quiet", "--no-deps", "--cache-dir", str(image_uv_cache()),
              "--target", str(target), "--python-version", base.python, "--python-platform", base.uv_platform,
              *args],
             cwd=target.parent, what=f"installing into {target.name}/ for Python {base.python} ({base.uv_platform})")
    shutil.rmtree(target / "bin", ignore_errors=True)  # scripts with the host's interpreter in their shebang


def install_locked(target: Path, base: BaseInfo, lock_path: Path, local_wheels: list[Path]) -> None:
    """Install the hashed lock and the wheels of its local-directory distributions into ``target``."""
    _uv_target(target, base, "--require-hashes", "-r", str(lock_path))
    if local_wheels:
        _uv_target(target, base, *map(str, local_wheels))


def lock_for_image(project: Any, work: Path) -> Path:
    """The project's requirements lock (a warning when stale), or one made in build/image when it has none."""
    from bigflow.builders.requirements import check_stale, lock, lock_spec, read_lock

    spec = lock_spec(project)
    found = read_lock(spec.lock)
    if found is not None and (spec.source is not None or found.source_hash is not None):
        stale = check_stale(project)
        if stale:
            say(f"bigflow: warning: {stale}")
        return spec.lock
    generated = work / "requirements.txt"
    say(f"No requirements lock in the project; locking {spec.source_label} into {generated.relative_to(project.root)}")
    lock(project, destination=generated)
    return generated


def dependencies_image(client: Any, project: Any, base: BaseInfo, repository: str, work: Path, *,
                       cache_from: list[str], no_cache: bool, quiet: bool) -> tuple[str, str, bool]:
    """The dependencies image for the current lock, built when missing: (tag, lock used, built now)."""
    import docker

    from bigflow.builders.requirements import read_lock

    lock_path = lock_for_image(project, work)
    local_wheels = build_local_sources(project, read_lock(lock_path).local, work / "local-wheels")  # type: ignore[union-attr]
    stamp = hashlib.sha256()
    for part in (lock_path.read_bytes(), DEPS_DOCKERFILE.read_bytes(), base.image_id.encode(),
                 f"{base.python} {base.uv_platform}".encode(), *(file_digest(w).encode() for w in local_wheels)):
        stamp.update(part)
    tag = f"{repository}:deps-{stamp.hexdigest()[:12]}"
    lock_used = str(lock_path.relative_to(project.root))
    if not no_cache:
        try:
            client.images.get(tag)
            return tag, lock_used, False
        except docker.errors.ImageNotFound:
            pass
    context = work / "deps-context"
    shutil.rmtree(context, ignore_errors=True)
    (context / "deps").mkdir(parents=True)
    say(f"Installing the locked dependencies for Python {base.python} ({base.uv_platform})")
    with progress("installing the locked dependencies"):
        install_locked(context / "deps", base, lock_path, local_wheels)
    shutil.copy2(DEPS_DOCKERFILE, context / "Dockerfile")
    say(f"Building the dependencies image {tag}")
    run_build(client, context, tag, {"BASE_IMAGE": base.image, "SITE_PACKAGES": base.site_packages},
              cache_from=cache_from, network=None, quiet=quiet, no_cache=no_cache)
    shutil.rmtree(context, ignore_errors=True)  # the image holds it now
    return tag, lock_used, True


def _tree_stamp(directory: Path) -> str:
    """A fingerprint of a source tree: every file's path, size and modification time."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".git", ".venv", "build", "dist")
                             and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            stat = os.stat(os.path.join(dirpath, name))
            digest.update(f"{dirpath}/{name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_local_sources(project: Any, names: list[str], out: Path) -> list[Path]:
    """Wheels of the lock's local-directory distributions, rebuilt when their source tree changed."""
    from bigflow.builders.requirements import local_sources

    if not names:
        return []
    sources = local_sources()
    missing = [n for n in names if n not in sources]
    if missing:
        raise BigflowError(
            f"the lock needs {', '.join(missing)} from a local directory, but it is not installed from one here; "
            "run 'bigflow build requirements' again"
        )
    wheels = []
    for name in names:
        target = out / name
        stamp_file, stamp = out / f"{name}.stamp", _tree_stamp(sources[name])
        built = sorted(target.glob("*.whl")) if target.is_dir() else []
        if len(built) != 1 or not stamp_file.is_file() or stamp_file.read_text() != stamp:
            shutil.rmtree(target, ignore_errors=True)
            run_tool([uv_binary(), "build", "--quiet", "--wheel", "--out-dir", str(target), str(sources[name])],
                     cwd=project.root, what=f"building {name} from {sources[name]}")
            stamp_file.write_text(stamp)
            built = sorted(target.glob("*.whl"))
        wheels += built
    return wheels


def check_literal_secrets(project: Any, names: frozenset[str], strict: bool) -> None:
    """A warning per literal secret value in the project's code configs (they go into the image as written);
    with ``strict``, an error after them."""
    found = literal_secrets(project.root, project.package_dir, names)
    for item in found:
        if strict:
            print(f"bigflow: error: {item}", file=sys.stderr)
        else:
            warn(str(item))
    if found and strict:
        raise ConfigError(f"{len(found)} literal secret value(s) in the project's configs would go into the image "
                          "(listed above): read them from bf_<key> variables instead")


def stage_context(project: Any, base: BaseInfo, wheel: Path, dockerfile: Path | None,
                  secrets: frozenset[str], mask: Callable[[str], str]) -> Path:
    """Stage the project's build context in build/image/context: wheel installed, command, project files (no
    secret values of pyproject.toml, ``mask`` applied to its comments: see ``build_secrets``)."""
    context = project.root / WORK / "context"
    shutil.rmtree(context, ignore_errors=True)
    (context / "app").mkdir(parents=True)
    _uv_target(context / "app", base, str(wheel))
    (context / "bin").mkdir()
    shim = context / "bin" / "bigflow"
    shim.write_text(f'#!/bin/sh\nexec {VENV}/bin/python -m bigflow "$@"\n')
    shim.chmod(0o755)
    (context / "project").mkdir()
    if (project.root / "pyproject.toml").is_file():
        image_pyproject = pyproject_without_secrets((project.root / "pyproject.toml").read_text(), secrets,
                                              mask=mask)
        for path in image_pyproject.removed:
            say(f"pyproject.toml: environment {path[3]!r}, key {'.'.join(map(str, path[4:]))!r}: a secret, left out "
                f"of the image (the container needs bf_{path[4]})")
        (context / "project" / "pyproject.toml").write_text(image_pyproject.text)
    if (project.root / "deployment_config.py").is_file():
        shutil.copy2(project.root / "deployment_config.py", context / "project" / "deployment_config.py")
    (context / "project" / project.package).symlink_to(f"{base.site_packages}/{project.package}")
    if dockerfile is not None and not dockerfile.is_file():
        raise BigflowError(f"Dockerfile {dockerfile} does not exist")
    source = dockerfile or (project.root / "Dockerfile")
    source = source if source.is_file() else DEFAULT_DOCKERFILE
    if "DEPS_IMAGE" not in source.read_text():
        say(f"bigflow: warning: {source.name} does not build FROM ${{DEPS_IMAGE}}: the locked dependencies are "
            "not in the image (see core's default Dockerfile in docs/lifecycle.md)")
    shutil.copy2(source, context / "Dockerfile")
    return context


@dataclass
class BuildResult:
    image_id: str
    steps: int
    cached: int


#: The network of RUN steps when --network is not given (an engine without a bridge network, such as the one
#: scripts/setup starts, gives RUN steps none: apt-get or pip in a Dockerfile then need 'host').
NETWORK_VARIABLE = "BIGFLOW_DOCKER_NETWORK"
#: What a RUN step without network prints (apt-get, pip, curl), and the hint the build error then gets.
_NO_NETWORK = re.compile(r"Temporary failure (?:resolving|in name resolution)|Could not resolve host|Name or service not known|"
                         r"Failed to establish a new connection|Network is unreachable")


def build_network(given: str | None) -> str | None:
    return given or os.environ.get(NETWORK_VARIABLE) or None


def run_build(client: Any, context: Path, tag: str, buildargs: dict[str, str], *, cache_from: list[str],
              network: str | None, quiet: bool, no_cache: bool = False) -> BuildResult:
    """Build through the engine, showing progress; a failing step is a one-line error naming it."""
    import docker

    step, total, cached, image_id, offline = "", 0, 0, None, False
    declared = set(re.findall(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", (context / "Dockerfile").read_text(), re.M))
    buildargs = {name: value for name, value in buildargs.items() if name in declared}  # no "not consumed" warning
    try:
        stream = client.api.build(path=str(context), tag=tag, buildargs=buildargs, cache_from=cache_from or None,
                                  network_mode=network, rm=True, forcerm=True, decode=True, pull=False,
                                  nocache=no_cache)
        with progress(f"building {tag}") as shown:
            for chunk in stream:
                if "error" in chunk:
                    detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                    where = f" at step {step}" if step else ""
                    hint = "" if not offline or network else \
                        f" (its RUN step had no network: build with --network host, or set {NETWORK_VARIABLE}=host)"
                    raise BigflowError(f"image build failed{where}: {detail.strip().splitlines()[-1]}{hint}")
                if "aux" in chunk and "ID" in chunk["aux"]:
                    image_id = chunk["aux"]["ID"]
                text = chunk.get("stream", "")
                offline = offline or bool(_NO_NETWORK.search(text))
                for line in text.splitlines():
                    match = _STEP.match(line)
                    if match:
                        step, total = f"{match[1]}/{match[2]} '{match[3]}'", int(match[2])
                        shown.update(f"building {tag}: step {step}")
                        if not quiet:
                            say(f"  Step {match[1]}/{match[2]} : {match[3]}")
                    elif line.strip() == "---> Using cache":
                        cached += 1
                    elif line.strip() and not quiet and not line.startswith((" --->", "Removing intermediate")):
                        say(f"    {line}")
    except docker.errors.APIError as error:
        raise BigflowError(f"image build failed: {error.explanation or error}") from None
    if image_id is None:
        image_id = client.images.get(tag).id
    return BuildResult(image_id, total, cached)


def export_tar(client: Any, image_id: str, tag: str, path: Path) -> None:
    """``docker save`` of the image, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as file:
            for chunk in client.images.get(image_id).save(named=tag):
                file.write(chunk)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class ImageBuilder:
    """Artifact builder ``image``: the environment's ``docker_repository`` names the image."""

    options = (
        Option("base-image", metavar="IMAGE",
               help="base image (default: [tool.bigflow] base-image, else python:X.Y-slim of this Python)."),
        Option("dockerfile", Path, metavar="FILE", help="Dockerfile to use (default: ./Dockerfile, else core's)."),
        Option("cache-from", multiple=True, metavar="IMAGE", help="an image to reuse layers from (repeatable)."),
        Option("no-cache", flag=True, help="build every layer anew."),
        Option("export-tar", flag=True, help="also save the image to build/image-<tag>.tar."),
        Option("network", metavar="MODE", help="network of RUN steps (e.g. 'host'; default: "
                                               "$BIGFLOW_DOCKER_NETWORK, else the engine's default)."),
        Option("strict-secrets", flag=True, help="a literal secret value in the project's configs is an error, not "
                                                 "a warning (also: [tool.bigflow] strict-secrets = true)."),
    )

    def build(self, project: Any, env: Any, options: Mapping[str, Any]) -> list[Artifact]:
        root = project.root
        version = options["version"]
        repository = docker_repository(project, env)
        tag = f"{repository}:{image_tag(version)}"
        secrets = secret_names(env)
        check_literal_secrets(project, secrets,
                              bool(options["strict_secrets"] or project.settings.get("strict-secrets")))
        client = engine()
        base_image = options["base_image"] or project.settings.get("base-image") or \
            f"python:{sys.version_info[0]}.{sys.version_info[1]}-slim"
        base = probe_base(client, base_image, root / WORK)
        wheel = project_wheel(project, env, version)
        dockerfile = options["dockerfile"]
        cache_from = list(options["cache_from"])
        for image in cache_from:
            _ensure_local(client, image)
        quiet, no_cache = bool(options["quiet"]) or verbosity.quiet(), bool(options["no_cache"])
        deps_tag, lock_used, deps_built = dependencies_image(
            client, project, base, repository, root / WORK, cache_from=cache_from, no_cache=no_cache, quiet=quiet)
        context = stage_context(project, base, wheel, dockerfile, secrets, env.mask)
        say(f"Building image {tag} (base {base_image}, Python {base.python}, dependencies {deps_tag})")
        result = run_build(client, context, tag, {"BASE_IMAGE": base_image, "DEPS_IMAGE": deps_tag,
                                                  "SITE_PACKAGES": base.site_packages},
                           cache_from=cache_from, network=build_network(options["network"]), quiet=quiet,
                           no_cache=no_cache)
        say(f"Built {tag} ({result.image_id[:19]}; {result.cached} of {result.steps} steps from cache; "
            f"dependencies image {'built' if deps_built else 'reused'})")
        artifacts = [Artifact("image", tag, None, result.image_id, {
            "repository": repository, "tag": image_tag(version), "version": version, "base_image": base_image,
            "python": base.python, "wheel": wheel.name, "wheel_digest": file_digest(wheel), "lock": lock_used,
            "dependencies_image": deps_tag, "dependencies_built": deps_built,
            "steps": result.steps, "cached_steps": result.cached,
        })]
        if options["export_tar"]:
            path = root / "build" / f"image-{image_tag(version)}.tar"
            say(f"Exporting {tag} to {path.relative_to(root)}")
            export_tar(client, result.image_id, tag, path)
            artifacts.append(Artifact.for_file("image-tar", root, path, image=tag, image_id=result.image_id))
        return artifacts


def _ensure_local(client: Any, image: str) -> None:
    """Pull a --cache-from image when it is not local (the classic builder only uses local images)."""
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(image)
        except docker.errors.APIError as error:
            say(f"bigflow: warning: cache image {image} is not available ({error.explanation or error}); "
                "building without it")


# -- deploy --------------------------------------------------------------------------------------------


def registry_auth(repository: str) -> dict[str, str] | None:
    """Credentials for a push: None lets Docker use its config and credential helpers; for Google registries
    with nothing configured, an OAuth token from Application Default Credentials (kept in memory)."""
    from docker import auth

    host = repository.split("/")[0]
    if not (host.endswith("-docker.pkg.dev") or host == "gcr.io" or host.endswith(".gcr.io")):
        return None
    try:
        if auth.resolve_authconfig(auth.load_config(), host):
            return None
    except Exception:  # noqa: BLE001 - a broken docker config: fall through to ADC
        pass
    from bigflow.gcp import adc_access_token

    try:
        token = adc_access_token()
    except Exception as error:  # noqa: BLE001 - no ADC: the push reports the missing credentials
        say(f"bigflow: warning: no Application Default Credentials for {host}: {type(error).__name__}")
        return None
    return {"username": "oauth2accesstoken", "password": token}


def _image_artifact(manifest: Manifest, env: Any) -> Artifact:
    images = manifest.of_kind("image")
    if not images:
        raise BigflowError(f"build/manifest.json has no image; run 'bigflow build image --config {env.name}' first")
    return images[-1]


def _targets(artifact: Artifact, repository: str, latest: bool) -> list[str]:
    tags = [artifact.details["tag"]] + (["latest"] if latest else [])
    return [f"{repository}:{tag}" for tag in tags]


def push(client: Any, image_id: str, reference: str, auth_config: dict[str, str] | None) -> str:
    """Tag and push; returns the digest the push reported. Refusals are one-line errors."""
    import docker

    repository, _, tag = reference.rpartition(":")
    try:
        client.images.get(image_id).tag(repository, tag)
        digest = None
        for chunk in client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth_config):
            if "error" in chunk:
                detail = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                raise BigflowError(f"the registry refused the push of {reference}: {detail.strip()}")
            digest = (chunk.get("aux") or {}).get("Digest") or digest
    except docker.errors.ImageNotFound:
        raise BigflowError(f"image {image_id[:19]} from build/manifest.json is not in the Docker engine; "
                           "run 'bigflow build image' again") from None
    except docker.errors.APIError as error:
        raise BigflowError(f"the registry refused the push of {reference}: {error.explanation or error}") from None
    if digest is None:
        raise BigflowError(f"the push of {reference} reported no digest")
    return digest


def remote_digest(client: Any, reference: str, auth_config: dict[str, str] | None) -> str | None:
    """The manifest digest the registry has for ``reference`` (None when it has none)."""
    import docker

    try:
        return client.images.get_registry_data(reference, auth_config=auth_config).id
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as error:
        if error.status_code == 404 or "manifest unknown" in str(error):
            return None
        raise BigflowError(f"cannot read {reference} from the registry: {error.explanation or error}") from None


class ImageTarget:
    """Deploy target ``image``: push the built image to the environment's ``docker_repository``."""

    options = (Option("latest", flag=True, help="also tag and push 'latest'."),)

    def plan(self, project: Any, manifest: Manifest, env: Any, options: Mapping[str, Any]) -> Plan:
        artifact = _image_artifact(manifest, env)
        repository = docker_repository(project, env, required=True)
        plan = Plan("image")
        client = engine()
        auth_config = registry_auth(repository)
        local = _local_digest(client, artifact, repository)
        for reference in _targets(artifact, repository, bool(options["latest"])):
            try:
                remote = remote_digest(client, reference, auth_config)
            except BigflowError as error:
                plan.change.append(reference)
                plan.notes.append(str(error))
                continue
            if remote is None:
                plan.add.append(reference)
            elif local is not None and remote == local:
                plan.unchanged.append(reference)
            else:
                plan.change.append(reference)
        return plan

    def deploy(self, project: Any, manifest: Manifest, env: Any, options: Mapping[str, Any]) -> Plan:
        artifact = _image_artifact(manifest, env)
        repository = docker_repository(project, env, required=True)
        client = engine()
        auth_config = registry_auth(repository)
        plan = Plan("image")
        for reference in _targets(artifact, repository, bool(options["latest"])):
            say(f"Pushing {reference}")
            pushed = push(client, str(artifact.digest), reference, auth_config)
            remote = remote_digest(client, reference, auth_config)
            if remote != pushed:
                raise BigflowError(f"pushed {reference} as {pushed}, but the registry now serves {remote}")
            plan.add.append(f"{reference}@{pushed}")
        plan.notes.append("verified: the registry serves the digests that were pushed")
        return plan


def _local_digest(client: Any, artifact: Artifact, repository: str) -> str | None:
    """The registry digest Docker recorded for this image in ``repository`` after an earlier push."""
    import docker

    try:
        image = client.images.get(str(artifact.digest))
    except docker.errors.ImageNotFound:
        return None
    for entry in image.attrs.get("RepoDigests") or []:
        name, _, digest = entry.partition("@")
        if name == repository:
            return digest
    return None
