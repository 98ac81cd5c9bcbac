"""``bigflow migrate``: a BigFlow 1.x project's settings into ``[tool.bigflow]`` of pyproject.toml.

Reads, without running ``setup.py``:

- ``setup.py`` (``bigflow.build.setup(name=..., docker_repository=..., ...)``) or a 1.x pyproject's
  ``[bigflow-project]`` table;
- ``deployment_config.py`` (its ``deployment_config`` Config, executed as 1.x did): every environment's
  properties, master values inherited and ``{key}`` references expanded, become
  ``[tool.bigflow.environments.<env>]``; the default environment becomes ``default-environment``;
- ``resources/requirements.in`` (or ``requirements.in``): the ``[project]`` dependencies, with the 1.x
  ``bigflow[extras]`` requirement replaced by ``bigflow-core`` and the plugins of those extras.

Writes a PEP 621 ``[project]`` (hatchling), ``[tool.bigflow]`` and the environment tables, rewrites the
``bigflow`` line of requirements.in, and retires the 1.x files (removed when git tracks them unchanged,
renamed to ``*.1x`` otherwise): ``setup.py``, ``deployment_config.py`` (kept when some values are secrets or
required from ``bf_*`` variables, which pyproject.toml cannot hold) and a 1.x ``Dockerfile`` (core's default
image build replaces it). Idempotent: a project with ``[tool.bigflow]`` is left as it is.
"""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bigflow.errors import BigflowError

#: 1.x extras -> the plugin that provides them now (None: dropped).
EXTRAS = {"bigquery": "bigflow-bigquery", "dataflow": "bigflow-beam", "dataproc": "bigflow-spark",
          "base_frozen": None, "log": None, "monitoring": None}
REQUIREMENTS_IN = ("resources/requirements.in", "requirements.in")
_BIGFLOW_REQUIREMENT = re.compile(r"^\s*bigflow\s*(\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[<>=!~][^#;]*)?(?P<rest>.*)$")
_SKIPPED = {"name", "version", "packages", "requries", "install_requires", "data_files", "docker_repository",
            "deployment_config_file", "project_requirements_file", "resources_dir", "test_framework",
            "export_image_tar"}


@dataclass
class Migration:
    """Everything ``migrate`` will change, computed before anything is written."""

    root: Path
    writes: dict[Path, str] = field(default_factory=dict)
    retire: list[Path] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def setup_options(root: Path) -> dict[str, Any]:
    """Literal keyword arguments of the ``setup(...)`` call in setup.py, or the 1.x ``[bigflow-project]``."""
    setup_py = root / "setup.py"
    if setup_py.is_file():
        try:
            tree = ast.parse(setup_py.read_text(), str(setup_py))
        except SyntaxError as error:
            raise BigflowError(f"{setup_py}, line {error.lineno}: {error.msg}") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "setup":
                options = {}
                for keyword in node.keywords:
                    if keyword.arg:
                        try:
                            options[keyword.arg] = ast.literal_eval(keyword.value)
                        except ValueError:
                            options[keyword.arg] = None  # not a literal: reported by the caller
                return options
    data = _pyproject(root)
    return dict(data.get("bigflow-project", {}))


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise BigflowError(f"{path} is not valid TOML: {error}") from None


def load_deployment_config(path: Path) -> Any:
    """The ``deployment_config`` object of a 1.x deployment_config.py (the file is executed, as 1.x did)."""
    namespace: dict[str, Any] = {"__file__": str(path), "__name__": "deployment_config"}
    try:
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the project's own file
    except Exception as error:  # noqa: BLE001 - user code
        raise BigflowError(f"cannot load {path}: {type(error).__name__}: {error}") from None
    if "deployment_config" not in namespace:
        raise BigflowError(f"{path} defines no 'deployment_config'")
    return namespace["deployment_config"]


def _expand(values: dict[str, Any]) -> dict[str, Any]:
    """``{key}`` references expanded from the other values (non-string values are left as they are)."""
    expanded = dict(values)
    for _ in range(10):
        changed = False
        for key, value in expanded.items():
            if isinstance(value, str) and "{" in value:
                new = re.sub(r"\{([A-Za-z_]\w*)\}",
                             lambda m, own=key: str(expanded[m[1]])
                             if expanded.get(m[1]) is not None and m[1] != own else m[0], value)
                if new != value:
                    expanded[key], changed = new, True
        if not changed:
            break
    return expanded


def environments_of(config: Any) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]], str | None]:
    """Per environment: the values pyproject.toml can hold, the keys it cannot (secret, required, code)."""
    from bigflow.configuration import SecretStr, is_secret_key
    from bigflow.starter import toml_value

    tables: dict[str, dict[str, Any]] = {}
    kept: dict[str, list[str]] = {}
    for env, declared in getattr(config, "configs", {}).items():
        properties = {k: v for k, v in dict(declared.properties).items() if k != "env"}
        expanded = _expand({**properties, "env": env})
        secrets = set(getattr(declared, "secrets", ()))
        table, left = {}, []
        for key, value in properties.items():
            value = expanded[key]
            if value is None or key in secrets or is_secret_key(key) or isinstance(value, SecretStr) \
                    or (isinstance(value, str) and re.search(r"\{[A-Za-z_]\w*\}", value)):
                left.append(key)
                continue
            try:
                toml_value(value)
            except BigflowError:
                left.append(key)
                continue
            table[key] = value
        tables[env] = table
        if left:
            kept[env] = left
    return tables, kept, getattr(config, "default_env_name", None)


def rewrite_requirements(text: str, core_range: str) -> tuple[str, list[str], list[str]]:
    """requirements.in text with ``bigflow[extras]`` replaced; returns (text, new requirements, plugins)."""
    lines, new, plugins = [], [], []
    for line in text.splitlines():
        match = _BIGFLOW_REQUIREMENT.match(line)
        if match and not line.strip().startswith("#"):
            extras = [e.strip() for e in (match["extras"] or "").split(",") if e.strip()]
            replacement = [f"bigflow-core{core_range}"]
            for extra in extras:
                plugin = EXTRAS.get(extra)
                if plugin and f"{plugin}{core_range}" not in replacement:
                    replacement.append(f"{plugin}{core_range}")
                    plugins.append(f"{plugin}{core_range}")
            lines += replacement
            new += replacement
        else:
            lines.append(line)
    return "\n".join(lines) + "\n", new, plugins


def requirement_lines(text: str) -> list[str]:
    """The requirements of a requirements.in (options, includes and comments left out)."""
    found = []
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-")):
            found.append(line)
    return found


def _package(root: Path, name: str) -> str:
    wanted = re.sub(r"[-.]+", "_", name).lower()
    candidates = sorted(p.name for p in root.iterdir()
                        if (p / "__init__.py").is_file() and not p.name.startswith("test"))
    if wanted in candidates:
        return wanted
    if len(candidates) == 1:
        return candidates[0]
    raise BigflowError(f"cannot tell the project package of {name!r} (found {', '.join(candidates) or 'none'}); "
                       "rename it to match the project name")


def _remove_tables(text: str, names: set[str]) -> str:
    """TOML text without the tables (and their sub-tables) named."""
    kept, skipping = [], False
    for line in text.splitlines():
        header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$", line)
        if header:
            table = header[1].strip().strip('"')
            skipping = any(table == n or table.startswith(n + ".") for n in names)
        if not skipping:
            kept.append(line)
    return "\n".join(kept).strip() + "\n" if any(line.strip() for line in kept) else ""


def _tracked_unchanged(root: Path, path: Path) -> bool:
    done = subprocess.run(["git", "status", "--porcelain", "--", str(path.relative_to(root))], cwd=root,
                          capture_output=True, text=True)
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(path.relative_to(root))], cwd=root,
                             capture_output=True, text=True)
    return done.returncode == 0 and not done.stdout.strip() and tracked.returncode == 0


def plan(root: Path) -> Migration:
    """What migrating the 1.x project in ``root`` changes (nothing when it has [tool.bigflow] already)."""
    from bigflow.starter import toml_key, toml_value, version_range
    from bigflow.version import __version__

    migration = Migration(root)
    data = _pyproject(root)
    if "bigflow" in data.get("tool", {}):
        return migration
    options = setup_options(root)
    name = options.get("name") or data.get("project", {}).get("name")
    deployment = root / str(options.get("deployment_config_file") or "deployment_config.py")
    if not name and not deployment.is_file():
        raise BigflowError(f"{root} is not a BigFlow 1.x project (no setup.py with bigflow.build.setup(name=...), "
                           "no deployment_config.py)")
    name = re.sub(r"_", "-", str(name or root.name)).lower()
    package = _package(root, name)
    core_range = version_range(__version__)

    requirements = None
    configured = options.get("project_requirements_file")
    for candidate in ([Path(str(configured)).with_suffix(".in")] if configured else []) + [Path(p) for p in REQUIREMENTS_IN]:
        if (root / candidate).is_file():
            requirements = candidate
            break
    dependencies, plugins = [f"bigflow-core{core_range}"], []
    if requirements is not None:
        text = (root / requirements).read_text()
        rewritten, replaced, plugins = rewrite_requirements(text, core_range)
        if rewritten != text and replaced:
            migration.writes[root / requirements] = rewritten
            migration.changes.append(f"{requirements}: the 1.x 'bigflow' requirement -> {', '.join(replaced)}")
        dependencies = requirement_lines(rewritten)
        if not any(d.startswith("bigflow-core") for d in dependencies):
            dependencies.insert(0, f"bigflow-core{core_range}")

    tables: dict[str, dict[str, Any]] = {}
    kept: dict[str, list[str]] = {}
    default_env = None
    if deployment.is_file():
        tables, kept, default_env = environments_of(load_deployment_config(deployment))
    if options.get("docker_repository"):
        for env in tables or {"dev": {}}:
            tables.setdefault(env, {}).setdefault("docker_repository", options["docker_repository"])

    settings = [f"package = {toml_value(package)}"]
    if default_env:
        settings.append(f"default-environment = {toml_value(default_env)}")
    if requirements is not None and str(requirements) != "requirements.in":
        settings.append(f"requirements = {toml_value(str(requirements))}")
    if plugins:
        settings.append(f"required-plugins = {toml_value(plugins)}")
    blocks = [
        '[build-system]\nrequires = ["hatchling>=1.24"]\nbuild-backend = "hatchling.build"',
        "[project]\n" + "\n".join([
            f"name = {toml_value(name)}",
            "# Released versions come from git tags; 'bigflow build package' stamps them into the wheel.",
            'version = "0+dev"',
            'requires-python = ">=3.11"',
            "dependencies = [\n" + "".join(f"    {toml_value(d)},\n" for d in dependencies) + "]",
        ]),
        "[project.optional-dependencies]\n" + f'dev = ["pytest>=8", "bigflow-core[build,docker]{core_range}", '
        f'"bigflow-airflow{core_range}"]',
        f'[tool.hatch.build.targets.wheel]\npackages = ["{package}"]',
        "[tool.bigflow]\n" + "\n".join(settings),
    ]
    for env, values in tables.items():
        lines = [f"[tool.bigflow.environments.{toml_key(env) if '.' not in env else toml_value(env)}]"]
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in values.items()]
        lines += [f"# {key}: kept in deployment_config.py (secret or from the bf_{key} variable)"
                  for key in kept.get(env, [])]
        blocks.append("\n".join(lines))
    old_text = (root / "pyproject.toml").read_text() if (root / "pyproject.toml").is_file() else ""
    rest = _remove_tables(old_text, {"build-system", "bigflow-project", "project", "tool.hatch"})
    migration.writes[root / "pyproject.toml"] = (rest + "\n" if rest else "") + "\n\n".join(blocks) + "\n"
    migration.changes.append(
        f"pyproject.toml: [project] {name} ({len(dependencies)} dependencies), [tool.bigflow] package {package!r}"
        + (f", {len(tables)} environment(s): {', '.join(tables)}" if tables else "")
    )

    dropped = sorted(k for k in options if k not in _SKIPPED)
    if dropped:
        migration.notes.append(f"setup.py options not carried over: {', '.join(dropped)}")
    if options.get("test_framework") == "unittest":
        migration.notes.append("'bigflow build package' runs pytest, which also runs unittest test cases")
    for path in (root / "setup.py", root / "project_setup.py"):
        if path.is_file():
            migration.retire.append(path)
    if deployment.is_file():
        if kept:
            keys = sorted({k for keys in kept.values() for k in keys})
            migration.notes.append(f"kept {deployment.name}: it holds {', '.join(keys)}, secret or set from bf_* "
                                   "variables, which pyproject.toml cannot hold; it still applies over pyproject.toml")
        else:
            migration.retire.append(deployment)
    dockerfile = root / "Dockerfile"
    if dockerfile.is_file() and "SITE_PACKAGES" not in dockerfile.read_text():
        migration.retire.append(dockerfile)
        migration.notes.append("bigflow build image now uses core's Dockerfile (dependencies, wheel, non-root user); "
                               "put your changes into a copy of it (see docs/lifecycle.md)")
    return migration


def apply(migration: Migration) -> list[str]:
    """Write the changes (each file atomically) and retire the 1.x files; returns what was done, line by line."""
    done = list(migration.changes)
    for path, text in migration.writes.items():
        tmp = path.with_name(f".{path.name}.migrate.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    for path in migration.retire:
        relative = path.relative_to(migration.root)
        if _tracked_unchanged(migration.root, path):
            path.unlink()
            done.append(f"removed {relative} (git keeps the 1.x version)")
        else:
            backup = path.with_name(path.name + ".1x")
            path.replace(backup)
            done.append(f"renamed {relative} -> {backup.name}")
    return done
