"""The root ``bigflow`` group: core commands imported lazily, plugin commands read from plugin metadata."""

from __future__ import annotations

import difflib
from importlib import import_module

import click

from bigflow.version import PLUGIN_API_VERSION, __version__

#: Core commands: name -> (``module:attribute``, short help). Imported only when invoked.
CORE_COMMANDS: dict[str, tuple[str, str]] = {
    "start-project": ("bigflow.cli.start:start_project", "Create a new project that runs at once."),
    "run": ("bigflow.cli.run:run", "Run a workflow or one job locally."),
    "workflows": ("bigflow.cli.workflows:workflows", "List the project's workflows, or show one's job graph."),
    "config": ("bigflow.cli.config:config", "Show the resolved configuration of an environment."),
    "build": ("bigflow.cli.build:build", "Build artifacts (package, image, DAGs, ...) and the build manifest."),
    "plan": ("bigflow.cli.build:plan", "Show what a deploy would add, change and remove."),
    "deploy": ("bigflow.cli.build:deploy", "Deploy the built artifacts to an environment."),
    "version": ("bigflow.cli.version:version", "Print the project version derived from git tags."),
    "release": ("bigflow.cli.version:release", "Tag the next release version and push the tag."),
    "logs": ("bigflow.cli.logs:logs", "Print Cloud Logging links and filters for the project's jobs."),
    "migrate": ("bigflow.cli.migrate:migrate", "Convert a BigFlow 1.x project to [tool.bigflow] settings."),
    "plugins": ("bigflow.cli.plugins:plugins", "List, check and create bigflow plugins."),
    "completion": ("bigflow.cli.completion:completion", "Print the shell completion script (bash, zsh, fish)."),
}

#: BigFlow 1.x command names: hidden, each runs its new command after one line on stderr naming it.
ALIASES = {"project-version": "version", "pv": "version", "build-dags": "build dags", "build-image": "build image",
           "build-package": "build package", "build-requirements": "build requirements",
           "deploy-dags": "deploy composer", "deploy-image": "deploy image"}


def _plugin_commands() -> dict[str, str]:
    """Plugin-declared command names -> providing distribution, from metadata (no plugin is imported)."""
    from bigflow.output import warn
    from bigflow.plugins.manager import DISABLED, INCOMPATIBLE

    found: dict[str, str] = {}
    for plugin in cli_host().plugins:
        if plugin.status in (DISABLED, INCOMPATIBLE):
            continue
        for name in plugin.info.provides.get("command", []):
            if name in CORE_COMMANDS:
                warn(f"plugin {plugin.name!r} declares command {name!r}, which is a core command; ignored")
            elif name in found:
                warn(f"command {name!r} is declared by both {found[name]!r} and {plugin.name!r}")
            else:
                found[name] = plugin.name
    return found


def cli_host():
    """The plugin host, with core command names reserved (a plugin cannot take them)."""
    from bigflow import plugins

    host = plugins.host()
    host.reserved["command"] = {*CORE_COMMANDS, *ALIASES}
    return host


class BigflowGroup(click.Group):
    """A group whose subcommands load on demand and whose unknown names get a 'did you mean'.

    Plugin commands are listed from metadata; a name not declared there is looked up among the commands
    plugins registered (which loads the plugins).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*CORE_COMMANDS, *_plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd_name = ALIASES.get(cmd_name, cmd_name).split()[0]
        if cmd_name in CORE_COMMANDS:
            module, _, attr = CORE_COMMANDS[cmd_name][0].partition(":")
            return with_verbosity(getattr(import_module(module), attr))
        host = cli_host()
        declared_by = _plugin_commands().get(cmd_name)
        if declared_by is None and cmd_name not in host.contributions("command"):
            return None
        plugin = host.plugin(declared_by) if declared_by else None
        if plugin is not None and host.load() and plugin.status != "ok":
            from bigflow.errors import PluginError

            raise PluginError(f"command {cmd_name!r} is unavailable: plugin {plugin.name!r} {plugin.status_text}")
        command = host.contribution("command", cmd_name)
        if not isinstance(command, click.Command):
            from bigflow.errors import PluginError

            raise PluginError(f"command {cmd_name!r} registered by a plugin is not a click command")
        return with_verbosity(command)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name in ALIASES:
            click.echo(f"'bigflow {name}' is now 'bigflow {ALIASES[name]}'", err=True)
            args = [*ALIASES[name].split(), *args[1:]]
        if not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else " See 'bigflow --help'."
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        plugin_commands = _plugin_commands()
        rows = []
        for name in self.list_commands(ctx):
            if name in CORE_COMMANDS:
                rows.append((name, CORE_COMMANDS[name][1]))
            else:
                rows.append((name, f"Provided by the {plugin_commands[name]} plugin."))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from bigflow.verbosity import set_level

        set_level(-1)


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value and not ctx.resilient_parsing:
        from bigflow.verbosity import set_level

        set_level(value)


def _verbosity_options() -> list[click.Option]:
    return [click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_set_quiet,
                         help="Say less: results, warnings and errors only."),
            click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_set_verbose,
                         help="Say more: bigflow's debug messages.")]


def with_verbosity(command: click.Command) -> click.Command:
    """``command`` (and its subcommands) accepting -q/--quiet and -v/--verbose, unless it has its own."""
    if getattr(command, "_bigflow_verbosity", False):
        return command
    taken = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    command.params += [option for option in _verbosity_options() if not taken & {*option.opts}]
    command._bigflow_verbosity = True  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        with_verbosity(sub)
    return command


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from bigflow import plugins
    from bigflow.plugins.manager import DISABLED, INCOMPATIBLE

    click.echo(f"bigflow-core {__version__} (plugin API {PLUGIN_API_VERSION})")
    for plugin in plugins.host().plugins:
        if plugin.info.builtin:
            continue
        api = plugin.info.api or "unspecified"
        state = "compatible" if plugin.status not in (INCOMPATIBLE,) else "incompatible"
        if plugin.status == DISABLED:
            state = "disabled"
        click.echo(f"{plugin.name} {plugin.info.version} (plugin API {api}: {state})")
    ctx.exit()


@click.group(cls=BigflowGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the versions of core and of every plugin, and exit.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
              help="Say less: results, warnings and errors only (every command accepts it too).")
@click.option("-v", "--verbose", count=True, expose_value=False, callback=_set_verbose,
              help="Say more: bigflow's debug messages (every command accepts it too).")
def cli(debug: bool) -> None:
    """bigflow: one shape for data projects on Google Cloud.

    Workflows of BigQuery, Beam and Spark jobs, run locally and deployed to Cloud Composer.
    """
