"""Shipping Python code to Spark executors: the project package as a zip, the Python packages a remote
runtime lacks as another zip, and checking a job's ``pip_packages`` against the local environment."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement

from bigflow.api import BigflowError

_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_BINARY = (".so", ".pyd", ".dylib")
# Provided by every Spark runtime, or shipped as FRAMEWORK_PACKAGES (1.x jobs listed "bigflow[...]").
NOT_SHIPPED = {"pyspark", "py4j", "bigflow", "bigflow-core", "bigflow-spark"}
# What the generated driver imports: these packages and the requirements of bigflow-core.
FRAMEWORK_PACKAGES = ("bigflow", "bigflow_spark")
FRAMEWORK_DISTRIBUTION = "bigflow-core"


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not _SKIP_DIRS.intersection(relative.parts) and path.suffix != ".pyc":
            yield path


def write_zip(target: Path, sources: Iterable[tuple[Path, str]]) -> str:
    """Write a reproducible zip of ``(path, name in the zip)`` pairs (directories recursively); its sha256."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for source, arcname in sources:
            paths = [(source, arcname)] if source.is_file() else [
                (path, f"{arcname}/{path.relative_to(source).as_posix()}") for path in _files(source)]
            for path, name in paths:
                info = zipfile.ZipInfo(name, _EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())
    return hashlib.sha256(target.read_bytes()).hexdigest()


def package_zip(package_dir: Path, target_dir: Path) -> tuple[Path, str]:
    """``<package>.zip`` holding the package directory (importable from the zip); its path and sha256."""
    target = target_dir / f"{package_dir.name}.zip"
    return target, write_zip(target, [(package_dir, package_dir.name)])


def _requirements(requirements: Iterable[str], job_id: str) -> list[Requirement]:
    parsed = []
    for text in requirements:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement as error:
            raise BigflowError(f"PySparkJob {job_id!r}: invalid pip_packages entry {text!r}: {error}") from None
    return parsed


def check_installed(requirements: Iterable[str], job_id: str) -> None:
    """Fail with the pip command to run when a requirement is missing here (local and standalone engines)."""
    for requirement in _requirements(requirements, job_id):
        if _normal(requirement.name) in NOT_SHIPPED:
            continue
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or not requirement.specifier.contains(installed, prereleases=True):
            found = f"{installed} is installed" if installed else "it is not installed"
            raise BigflowError(f"PySparkJob {job_id!r} needs {str(requirement)!r} (pip_packages) but {found}: "
                               f"pip install '{requirement}'")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[Requirement]) -> list[str]:
    """Names of the installed distributions the requirements need, transitively (NOT_SHIPPED excluded)."""
    environment = default_environment()
    seen: dict[str, None] = {}
    stack = list(requirements)
    while stack:
        requirement = stack.pop()
        name = _normal(requirement.name)
        if name in seen or name in NOT_SHIPPED:
            continue
        if requirement.marker and not requirement.marker.evaluate({**environment, "extra": ""}):
            continue
        seen[name] = None
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            raise BigflowError(f"{requirement.name!r} is not installed here, so it cannot be shipped to Dataproc: "
                               f"pip install '{requirement}'") from None
        stack.extend(Requirement(r) for r in requires)
    return list(seen)


def _import_names(distributions: list[str]) -> list[str]:
    """Top-level import names of installed distributions."""
    by_distribution: dict[str, list[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            by_distribution.setdefault(_normal(dist), []).append(module)
    names = []
    for dist in distributions:
        found = sorted(n for n in by_distribution.get(dist, []) if n.isidentifier())
        names += found or [dist.replace("-", "_")]
    return names


def _module_source(name: str) -> tuple[Path, str]:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None and not spec.submodule_search_locations:
        raise BigflowError(f"Python package {name!r} is not importable here, so it cannot be shipped")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))), name
    origin = Path(spec.origin or "")
    return origin, origin.name


def dependencies_zip(pip_packages: Iterable[str], job_id: str, target_dir: Path) -> tuple[Path, str]:
    """``bigflow-deps.zip``: bigflow, bigflow_spark, bigflow-core's requirements and the job's pip_packages,
    for a runtime that has only Spark (pure-Python packages only: compiled code needs a container image)."""
    core_requirements = [Requirement(r) for r in importlib.metadata.requires(FRAMEWORK_DISTRIBUTION) or []]
    closure = _closure([*core_requirements, *_requirements(pip_packages, job_id)])
    names = [*FRAMEWORK_PACKAGES, *_import_names(closure)]
    sources = []
    for name in dict.fromkeys(names):
        source = _module_source(name)
        if any(path.suffix in _BINARY for path in ([source[0]] if source[0].is_file() else _files(source[0]))):
            raise BigflowError(f"PySparkJob {job_id!r}: Python package {name!r} has compiled code and cannot be "
                               "shipped as a zip; build the project image (bigflow build) to run it as the "
                               "Dataproc container, or set dataproc_container_image")
        sources.append(source)
    target = target_dir / "bigflow-deps.zip"
    return target, write_zip(target, sources)
