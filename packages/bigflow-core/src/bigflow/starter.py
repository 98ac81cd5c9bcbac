"""``bigflow start-project``: a new project that works at once, with one example workflow per technology.

Core renders ``templates/project`` (pyproject with ``[tool.bigflow]`` and the environments ``local``, ``dev``,
``prod`` (protected) and ``rehearsal``; a Dockerfile; a plain-Python example workflow and its test; a GitHub
Actions CI file that tests, builds the DAGs and deploys; a README).
Every installed plugin's starter (``register_starters``) adds files — ``starter.files(context)`` — and may
add environment settings — ``starter.environment_settings(context)`` — merged into the environment tables (a
value None leaves the key out), and Debian packages the project's image needs — ``starter.system_packages``,
``{package: why}``, installed by one ``RUN apt-get`` line of the Dockerfile; its plugin becomes a dependency and
a required plugin of the project. Everything is written at once, or nothing is.

``rehearsal`` is prod with every endpoint local (what ``bigflow airflow rehearse`` runs against): prod's settings,
overridden by what a starter returns for ``rehearsal``, or, when it returns nothing for it, by its ``local``
settings (a starter's local settings are its offline endpoints).

The project depends on every plugin whose starter contributed, and on the plugins of its roles
(``ROLE_PLUGINS``: ``bigflow-airflow``, as the project deploys its workflows to Cloud Composer).

The ``context`` given to starters holds: ``project_name``, ``package``, ``environments`` (``["local", "dev",
"prod"]``; a starter may also return ``rehearsal``), ``default_environment`` (``"local"``), ``gcp_project``, ``region``, ``dags_bucket``,
``docker_repository`` (each a string or None when not given), ``python_version`` (``"3.11"``) and
``bigflow_version`` (core's version).
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from bigflow.errors import BigflowError

ENVIRONMENTS = ("local", "dev", "prod", "rehearsal")
#: The environments starters are asked about (``rehearsal`` is derived from ``prod``, see above).
STARTER_ENVIRONMENTS = ("local", "dev", "prod")
#: Environments that deploy only from a clean, tagged release ([tool.bigflow] protected).
PROTECTED = ("prod",)
#: Plugins a generated project needs for what it does, whether or not they add an example: name -> why.
ROLE_PLUGINS = {"bigflow-airflow": "the DAGs of its workflows, deployed to Cloud Composer"}
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
#: The line of the Dockerfile template after which the starters' ``system_packages`` are installed.
SYSTEM_PACKAGES_AFTER = "# System packages or other files go here"
_DIST = re.compile(r"^[A-Za-z0-9_.-]+")  # the distribution name of a requirement
#: Settings every generated environment gets from core (before starters add theirs).
CORE_SETTINGS: dict[str, dict[str, Any]] = {
    "local": {"greeting": "Hello", "output_dir": "build/output"},
    "dev": {"greeting": "Hello", "output_dir": "/tmp/bigflow-output"},
    "prod": {"greeting": "Hello", "output_dir": "/tmp/bigflow-output"},
    "rehearsal": {},
}
#: Cloud settings, in the order written, with the start-project option that sets each.
CLOUD_KEYS = {"gcp_project_id": "--gcp-project", "region": "--region", "dags_bucket": "--dags-bucket",
              "docker_repository": "--docker-repository"}


@dataclass
class Options:
    """What start-project was asked for (cloud values may be None)."""

    name: str
    gcp_project: str | None = None
    region: str | None = None
    dags_bucket: str | None = None
    docker_repository: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def check_name(name: str) -> str:
    """The package (import) name of a valid project name; a one-line error otherwise."""
    if not _NAME.match(name):
        suggestion = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        suggestion = re.sub(r"^[0-9-]+", "", suggestion) or "my-project"
        raise BigflowError(
            f"invalid project name {name!r}: use lowercase letters, digits and single '-' or '_', "
            f"starting with a letter (e.g. {suggestion!r})"
        )
    package = name.replace("-", "_")
    if keyword.iskeyword(package):
        raise BigflowError(f"invalid project name {name!r}: {package!r} is a Python keyword")
    if package in sys.stdlib_module_names or package in metadata.packages_distributions():
        raise BigflowError(
            f"invalid project name {name!r}: its package {package!r} would shadow an installed module "
            f"of that name; choose another name (e.g. '{name}-workflows')"
        )
    return package


def version_range(version: str) -> str:
    """``>=X.Y,<X+1`` for an installed distribution's version (``<1`` for 0.x)."""
    parts = [int(p) for p in re.findall(r"\d+", version)[:2]] + [0, 0]
    return f">={parts[0]}.{parts[1]},<{parts[0] + 1}"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise BigflowError(f"cannot write {value!r} ({type(value).__name__}) as a TOML value")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def context_of(options: Options, package: str) -> dict[str, Any]:
    from bigflow.version import __version__

    return {
        "project_name": options.name,
        "package": package,
        "environments": list(STARTER_ENVIRONMENTS),
        "default_environment": "local",
        "gcp_project": options.gcp_project,
        "region": options.region,
        "dags_bucket": options.dags_bucket,
        "docker_repository": options.docker_repository,
        "python_version": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "bigflow_version": __version__,
        **options.extra,
    }


def cloud_settings(options: Options) -> dict[str, Any]:
    repository = options.docker_repository
    if repository is None and options.gcp_project and options.region:
        repository = f"{options.region}-docker.pkg.dev/{options.gcp_project}/bigflow/{options.name}"
    return {"gcp_project_id": options.gcp_project, "region": options.region, "dags_bucket": options.dags_bucket,
            "docker_repository": repository}


@dataclass
class Contribution:
    """What one plugin's starter adds."""

    name: str
    plugin: str
    files: dict[str, str]
    settings: dict[str, dict[str, Any]]
    extras: tuple[str, ...] = ()
    system_packages: dict[str, str] = field(default_factory=dict)


def _checked_path(starter: str, path: Any) -> str:
    pure = PurePosixPath(str(path))
    if not str(path) or pure.is_absolute() or ".." in pure.parts:
        raise BigflowError(f"starter {starter!r} returned the path {path!r}; paths must be relative, inside the project")
    return str(pure)


def _checked_packages(starter: str, packages: Any) -> dict[str, str]:
    found = {str(name): " ".join(str(why).split()) for name, why in dict(packages).items()}  # one comment line
    bad = [name for name in found if not _DEBIAN_PACKAGE.match(name)]
    if bad:
        raise BigflowError(f"starter {starter!r} returned the system package {bad[0]!r}, not a Debian package name")
    return found


def plugin_contributions(context: dict[str, Any]) -> list[Contribution]:
    """Every registered starter's files and settings (a failing starter is reported and left out)."""
    from bigflow import plugins
    from bigflow.plugins.manager import one_line, strict, warn

    found = []
    host = plugins.host()
    for name, item in sorted(host.contributions("starter").items()):
        if item.obj is None:  # registered by two plugins: reported as a conflict by the host
            continue
        try:
            files = {_checked_path(name, p): str(t) for p, t in dict(item.obj.files(dict(context))).items()}
            settings_of = getattr(item.obj, "environment_settings", None)
            settings = dict(settings_of(dict(context))) if settings_of else {}
            packages = _checked_packages(name, getattr(item.obj, "system_packages", {}))
        except BigflowError:
            raise
        except Exception as error:  # noqa: BLE001 - a plugin's bug must not stop the scaffold
            if strict():
                raise BigflowError(f"starter {name!r} of {item.plugin} failed: {one_line(error)}") from None
            warn(f"starter {name!r} of plugin {item.plugin!r} failed ({one_line(error)}); its example is left out")
            continue
        unknown = sorted(set(settings) - set(ENVIRONMENTS))
        if unknown:
            raise BigflowError(f"starter {name!r} returned settings for unknown environment(s) {', '.join(unknown)}")
        found.append(Contribution(name, item.plugin, files, settings, tuple(getattr(item.obj, "extras", ())),
                                  packages))
    return found


def environment_values(options: Options, contributions: list[Contribution]) -> dict[str, dict[str, Any]]:
    """Every environment's settings: core's, the cloud ones, then each starter's (``rehearsal``: see above)."""
    cloud = {k: v for k, v in cloud_settings(options).items() if v is not None}
    found: dict[str, dict[str, Any]] = {}
    for env in ENVIRONMENTS:
        values: dict[str, Any] = dict(found["prod"]) if env == "rehearsal" else dict(CORE_SETTINGS[env])
        if env == "local":
            values["docker_repository"] = options.name  # the image tag 'bigflow build image' gives a local build
        elif env != "rehearsal":
            values.update(cloud)
        for contribution in contributions:
            settings = contribution.settings
            values.update(settings.get(env, {}) if env != "rehearsal" else settings.get(env, settings.get("local", {})))
        found[env] = values
    return found


ENVIRONMENT_NOTES = {"rehearsal": "# prod, with every endpoint local: what 'bigflow airflow rehearse' runs against"}


def environment_tables(options: Options, contributions: list[Contribution]) -> str:
    """The ``[tool.bigflow.environments.<env>]`` tables, a missing cloud value as a comment naming its option."""
    cloud = cloud_settings(options)
    tables = []
    for env, values in environment_values(options, contributions).items():
        missing = [] if env in ("local", "rehearsal") else [k for k, v in cloud.items() if v is None]
        lines = [*([ENVIRONMENT_NOTES[env]] if env in ENVIRONMENT_NOTES else []), f"[tool.bigflow.environments.{env}]"]
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in values.items() if v is not None]
        lines += [f'# {key} = "..."   (not given: {CLOUD_KEYS[key]})' for key in missing]
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def project_files(options: Options) -> tuple[dict[str, str], list[Contribution]]:
    """Every file of the new project, ``{relative_path: text}``, and what each plugin contributed."""
    from bigflow.scaffold import render_files
    from bigflow.version import __version__

    package = check_name(options.name)
    context = context_of(options, package)
    contributions = plugin_contributions(context)
    dependencies = [f"bigflow-core{version_range(__version__)}"]
    required = []
    for plugin in sorted({c.plugin for c in contributions} | set(ROLE_PLUGINS)):
        try:
            versions = version_range(metadata.version(plugin))
        except metadata.PackageNotFoundError:  # not installed here (a role plugin), or registered in-process (tests)
            if plugin in ROLE_PLUGINS:  # a dependency, released with core; required once installed
                dependencies.append(f"{plugin}{version_range(__version__)}")
            continue
        extras = sorted({e for c in contributions if c.plugin == plugin for e in c.extras})
        dependencies.append(f"{plugin}[{','.join(extras)}]{versions}" if extras else f"{plugin}{versions}")
        required.append(f"{plugin}{versions}")
    examples = "".join(
        f"| `{path}` | example workflow of the {c.plugin} plugin |\n"
        for c in contributions for path in sorted(c.files) if path.endswith("_workflow.py")
    )
    mixed = mixed_workflow(package, contributions)
    examples += "".join(f"| `{path}` | one workflow mixing every example (`mixed_example`) |\n" for path in mixed)
    values = {
        "module": package,
        "package": package,
        "project_name": options.name,
        "python_version": context["python_version"],
        "core_range": version_range(__version__),
        "dependencies": "".join(f"    {toml_value(d)},\n" for d in dependencies),
        "required_plugins": (f"required-plugins = {toml_value(required)}\n" if required else "")
                            + f"protected = {toml_value(list(PROTECTED))}",
        "environments": environment_tables(options, contributions),
        "example_rows": f"| `{package}/hello_workflow.py` | example workflow in plain Python (`hello`) |\n" + examples,
        "bigflow_packages": " ".join(f"./bigflow/packages/{_DIST.match(d)[0]}" for d in dependencies),
        "find_bigflow": find_bigflow_step(version_range(__version__)),
    }
    files = render_files("project", values)
    files["Dockerfile"] = with_system_packages(files["Dockerfile"], contributions)
    files.update(mixed)
    owners = dict.fromkeys(files, "core")
    for contribution in contributions:
        for path, text in contribution.files.items():
            if path in owners:
                raise BigflowError(
                    f"starter {contribution.name!r} and {owners[path]} both write {path!r}; "
                    "disable one plugin with BIGFLOW_DISABLE_PLUGINS"
                )
            owners[path] = f"starter {contribution.name!r}"
            files[path] = text
    return files, contributions


def with_system_packages(dockerfile: str, contributions: list[Contribution]) -> str:
    """The Dockerfile with one ``apt-get install`` of every starter's ``system_packages`` (each with its plugin and
    why, in a comment), after the template's line for system packages; unchanged when no starter needs any."""
    wanted = {name: (c.plugin, why) for c in contributions for name, why in c.system_packages.items()}
    if not wanted:
        return dockerfile
    lines = [f"# {name} ({plugin}): {why}\n" for name, (plugin, why) in sorted(wanted.items())]
    lines.append("RUN mkdir -p /usr/share/man/man1 && apt-get update && apt-get install -y --no-install-recommends "
                 f"{' '.join(sorted(wanted))} && rm -rf /var/lib/apt/lists/*\n")
    start = dockerfile.index(SYSTEM_PACKAGES_AFTER)
    end = dockerfile.index("\n", start) + 1
    return dockerfile[:end] + "".join(lines) + dockerfile[end:]


def find_bigflow_step(core_range: str) -> str:
    """The shell line of the generated CI that stops a job, in one line, when pip cannot find bigflow-core
    (its packages come from the index or links of the repository variables; see the README's "CI")."""
    return (f'pip download --quiet --no-deps --dest "$RUNNER_TEMP/bigflow" "bigflow-core{core_range}" > /dev/null 2>&1 '
            f'|| {{ echo "::error::pip finds no bigflow-core{core_range}: set the repository variable '
            'BIGFLOW_INDEX_URL or BIGFLOW_FIND_LINKS to where bigflow\'s wheels are (see README.md, CI)"; exit 1; }')


def mixed_workflow(package: str, contributions: list[Contribution]) -> dict[str, str]:
    """``{path: text}`` of ``mixed_workflow.py`` (workflow ``mixed_example``: the jobs of every example
    workflow in one run) when plugins contributed example workflows; nothing otherwise."""
    from string import Template

    from bigflow.scaffold import TEMPLATES

    modules = ["hello_workflow"] + sorted(
        PurePosixPath(path).stem for c in contributions for path in c.files
        if path.startswith(f"{package}/") and path.count("/") == 1 and path.endswith("_workflow.py")
    )
    if len(modules) < 2:
        return {}
    text = Template((TEMPLATES / "mixed_workflow.py.tmpl").read_text()).substitute(
        technologies=", ".join(m.removesuffix("_workflow") for m in modules),
        package=package,
        imports="".join(f"    {m},\n" for m in sorted(modules)).rstrip("\n"),
        modules=", ".join(modules),
    )
    return {f"{package}/mixed_workflow.py": text}


def start_project(options: Options, target: Path) -> tuple[Path, list[Contribution]]:
    """Create the project in ``target`` (a new or empty directory): all files at once, or none."""
    from bigflow.scaffold import check_target, write_tree

    check_name(options.name)
    check_target(target)
    files, contributions = project_files(options)
    return write_tree(target, files), contributions
