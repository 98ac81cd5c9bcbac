"""The bigflow plugin contract: hook specifications only, grouped by the phase in which core calls them.

A plugin is a module (or object) with functions marked ``@bigflow.plugins.hookimpl`` whose names match the
specs below. Implementations may accept any subset of a hook's arguments, by name.

Contribution hooks take a ``register`` callback: call ``register(name, obj)`` once per thing contributed.
Core records which plugin registered what, so ``bigflow plugins list`` can show it and two plugins that
register the same name are reported instead of one silently winning.

Plugin API version: ``bigflow.version.PLUGIN_API_VERSION``. Adding a hook is a minor bump; changing or
removing one is a major bump.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from bigflow.workflow import JobContext, Workflow

    Register = Callable[[str, Any], None]

hookspec = pluggy.HookspecMarker("bigflow")

# -------------------------------------------------------------------------------------------------
# Contribution hooks: called once per process, the first time core needs the contributions of
# plugins (e.g. a job type is looked up, a plugin command is invoked). Not first-result: every
# implementation is called.
# -------------------------------------------------------------------------------------------------


@hookspec
def register_job_types(register: Register) -> None:
    """Contribute job types that workflows can use by name.

    Called when a job type is first looked up by name (``bigflow.plugins.job_type(name)``).

    :param register: ``register(name, job_class)``; ``job_class(id=..., **options)`` must build an object
        with ``id`` and ``execute(context)``.
    """


@hookspec
def register_commands(register: Register) -> None:
    """Contribute CLI commands (click commands or groups) to ``bigflow``.

    Called when a plugin command is invoked, or its help is shown. Declare each command name in the
    plugin's ``bigflow.provides`` entry points (``"command:NAME"``) so ``bigflow --help`` can list it
    without importing the plugin. A name that collides with a core command is reported and ignored.

    :param register: ``register(name, click_command)``.
    """


@hookspec
def register_config_sources(register: Register) -> None:
    """Contribute configuration sources (e.g. a secret manager) consulted when configuration is resolved.

    Called when a project's configuration is first resolved.

    :param register: ``register(name, source)``; ``source.load(env: str, keys: Collection[str])`` returns a
        mapping of the values it knows for ``env``; values from sources override values from code.
    """


@hookspec
def register_artifact_builders(register: Register) -> None:
    """Contribute artifact builders (wheel, image, DAGs, ...) run by ``bigflow build``.

    Called when ``bigflow build`` (or ``bigflow build NAME``) runs.

    :param register: ``register(name, builder)`` with a ``bigflow.api.ArtifactBuilder``: ``builder.options``
        declares its command-line options (``bigflow.api.Option``), ``builder.build(project, env, options)``
        returns the artifacts it produced (``list[Artifact | path]``), recorded in the build manifest.
    """


@hookspec
def register_deploy_targets(register: Register) -> None:
    """Contribute deploy targets (Composer, local Airflow, a registry, ...) used by ``bigflow deploy``.

    Called when ``bigflow deploy`` or ``bigflow plan`` runs.

    :param register: ``register(name, target)`` with a ``bigflow.api.DeployTarget``: ``target.options`` declares
        its command-line options, ``target.plan(project, manifest, env, options) -> Plan`` describes the change,
        ``target.deploy(project, manifest, env, options) -> Plan`` performs it.
    """


@hookspec
def register_starters(register: Register) -> None:
    """Contribute project templates (starter content) to ``bigflow start-project``.

    Called when a project is scaffolded. Each installed technology adds one example workflow.

    :param register: ``register(name, starter)``; ``starter.files(context)`` returns ``{relative_path: text}``,
        the optional ``starter.environment_settings(context)`` returns ``{env: {key: value}}`` for the
        environment tables (None leaves a key out), the optional ``starter.extras`` names extras of the plugin's
        distribution the project depends on (e.g. ``("emulator",)``), and the optional
        ``starter.system_packages`` maps Debian packages the project's image needs to why (one ``RUN apt-get
        install`` line of the generated Dockerfile, e.g. ``{"openjdk-17-jre-headless": "local Spark"}``).
    """


# -------------------------------------------------------------------------------------------------
# Extension hooks: plugins extend the host itself.
# -------------------------------------------------------------------------------------------------


@hookspec(historic=True)
def register_hookspecs(register: Callable[[Any], None]) -> None:
    """Add hook specifications to bigflow's one plugin host (pytest's ``pytest_addhooks`` is the model).

    Called once, when plugins are loaded, after every plugin's hook modules are registered (and at once for a
    plugin registered later); so any plugin may implement the hooks another plugin adds, with the usual
    ``@hookimpl`` marker. A plugin calls its own hooks with ``bigflow.api.hook().NAME(...)``.

    :param register: ``register(module_or_class)``: every function in it marked with
        ``bigflow.api.hookspec`` becomes a hook (``pluggy.PluginManager.add_hookspecs``).
    """


# -------------------------------------------------------------------------------------------------
# Run lifecycle hooks: called by the local executor (``bigflow run``) around workflows and jobs.
# Not first-result; return values are ignored. An exception in a lifecycle hook is reported as a
# plugin failure and does not change the job's outcome (unless BIGFLOW_STRICT_PLUGINS=1).
# -------------------------------------------------------------------------------------------------


@hookspec
def before_workflow(workflow: Workflow, context: JobContext) -> None:
    """Called before the first job of a workflow run starts.

    :param workflow: the ``bigflow.Workflow`` being run.
    :param context: the ``bigflow.JobContext`` of the run (runtime, env, config, run_id).
    """


@hookspec
def after_workflow(workflow: Workflow, context: JobContext, report: Any) -> None:
    """Called after the last job of a workflow run ended, whatever the outcome.

    :param workflow: the ``bigflow.Workflow`` that ran.
    :param context: the ``bigflow.JobContext`` of the run.
    :param report: the run report (per job: state, attempts, duration; ``report.ok``).
    """


@hookspec
def before_job(job: Any, context: JobContext) -> None:
    """Called before each attempt of a job.

    :param job: the job object (``id``, ``execute``).
    :param context: the ``bigflow.JobContext`` passed to ``job.execute``.
    """


@hookspec
def after_job(job: Any, context: JobContext, result: Any) -> None:
    """Called after a job attempt succeeded.

    :param job: the job object.
    :param context: the ``bigflow.JobContext`` of the run.
    :param result: what ``job.execute`` returned.
    """


@hookspec
def on_job_error(job: Any, context: JobContext, error: BaseException) -> None:
    """Called after a job attempt failed or timed out (before any retry).

    :param job: the job object.
    :param context: the ``bigflow.JobContext`` of the run.
    :param error: the exception raised by the job (``TimeoutError`` on timeout).
    """


@hookspec
def register_settings(register: Register) -> None:
    """Declare the settings the plugin reads from ``[tool.bigflow]`` and its environment tables.

    Called when an environment is first resolved. Core checks every declared setting's type, fails when a
    required one is missing (naming the plugin) and when a key is a near miss of a declared name; ``bigflow
    config show`` and ``bigflow config schema`` list them.

    :param register: ``register(name, setting)`` with a ``bigflow.api.Setting`` whose ``name`` is ``name``.
    """
