"""The public plugin API: the one module a plugin imports from core (besides the 1.x paths such as ``bigflow``).

Everything here is stable within a major plugin API version (``bigflow.version.PLUGIN_API_VERSION``): a name
is added in a minor version and removed or changed only in the next major one, after a deprecation warning
for at least one minor version. Names are imported on first use, so ``from bigflow.api import hookimpl``
costs no more than the plugin host itself.

- the project and its environment: ``Project``, ``find_project()``, ``require_project()``, ``Environment``,
  ``environment(name=None, project=None)``, ``Setting``;
- builds and deploys: ``Artifact``, ``Manifest``, ``Plan``, ``Option``, and the contribution protocols
  ``JobType``, ``ConfigSource``, ``ArtifactBuilder``, ``DeployTarget``, ``Starter`` (see ``bigflow.contracts``);
- workflows: ``Workflow``, ``Job``, ``JobContext``;
- errors: ``BigflowError``, ``UsageError``, ``PluginError``, ``ConfigError``, ``UnknownNameError``,
  ``RefusedError`` (their exit codes: ``bigflow.exit_codes``);
- output: ``say``, ``warn``, ``print_table``, ``print_json``, ``progress``, ``confirm``;
- hooks: ``hookimpl``, ``hookspec``, ``hook()``, ``collect()``, ``job_type(name)``;
- the one home of each rule: the modules ``ids`` (workflow, job and DAG ids), ``schedules`` (cron and presets),
  ``runtimes`` (parse, format, range-check) and ``exit_codes``;
- helpers: ``project_version(root)``, ``git(root, *args)``, ``image_tag(version)`` (the project image's tag),
  ``Config``/``current_env``/``SecretStr``/``is_secret_key`` (1.x configuration), ``adc_access_token()``, ``lazy_exports`` (cheap package
  ``__init__``).

docs/plugin-reference.md documents every hook and protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bigflow.lazy import lazy_exports

if TYPE_CHECKING:
    from bigflow.environment import Environment
    from bigflow.plugins.manager import Contribution
    from bigflow.project import Project

_LAZY = {
    **dict.fromkeys(("Artifact", "Manifest", "Plan"), "bigflow.artifacts"),
    **dict.fromkeys(("ArtifactBuilder", "ConfigSource", "DeployTarget", "JobType", "Option", "Starter"),
                    "bigflow.contracts"),
    "Environment": "bigflow.environment",
    **dict.fromkeys(("BigflowError", "ConfigError", "PluginError", "RefusedError", "UnknownNameError", "UsageError"),
                    "bigflow.errors"),
    **dict.fromkeys(("confirm", "print_json", "print_table", "progress", "say", "warn"), "bigflow.output"),
    **dict.fromkeys(("hookimpl", "job_type"), "bigflow.plugins"),
    "hookspec": "bigflow.plugins.hookspecs",
    **dict.fromkeys(("Project", "find_project", "require_project"), "bigflow.project"),
    "Setting": "bigflow.settings",
    **dict.fromkeys(("Config", "SecretStr", "current_env", "is_secret_key"), "bigflow.configuration"),
    "lazy_exports": "bigflow.lazy",
    **dict.fromkeys(("git", "project_version"), "bigflow.versioning"),
    "adc_access_token": "bigflow.gcp",
    "image_tag": "bigflow.builders.image",
    **dict.fromkeys(("Job", "JobContext", "Workflow"), "bigflow.workflow"),
}

#: the one home of each rule, shared by core and plugins: ``ids``, ``schedules``, ``runtimes`` and ``exit_codes``
_RULE_MODULES = ("exit_codes", "ids", "runtimes", "schedules")

_exported, _listed = lazy_exports(__name__, _LAZY)


def __getattr__(name: str) -> Any:
    if name in _RULE_MODULES:
        from importlib import import_module

        return import_module(f"bigflow.{name}")
    return _exported(name)


def __dir__() -> list[str]:
    return sorted([*_listed(), *_RULE_MODULES])


def environment(name: str | None = None, project: Project | None = None) -> Environment:
    """The resolved environment ``name`` (default: the project's default one) of ``project`` (default: the
    project around the working directory), resolved once per process and cached."""
    from bigflow import environment as environments
    from bigflow.project import require_project

    return environments.get(project or require_project(), name)


def hook() -> Any:
    """pluggy's hook relay of the loaded plugin host: ``hook().my_hook(arg=...)`` calls a hook a plugin added
    with ``register_hookspecs``; each implementation is isolated (a failure is reported, the others run)."""
    from bigflow import plugins

    return plugins.host().hook


def collect(hook_name: str, label: str) -> dict[str, Contribution]:
    """Call a ``register(name, obj)`` hook a plugin added and return what was registered, by name (cached).

    Each value has ``obj`` and ``plugin`` (the distribution that registered it); a name registered by two
    plugins has ``obj=None`` and both names in ``plugin``. ``label`` names the thing in messages.
    """
    from bigflow import plugins

    return plugins.host().collect(hook_name, label)


__all__ = sorted([*_LAZY, *_RULE_MODULES, "collect", "environment", "hook"])
