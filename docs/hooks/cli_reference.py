"""mkdocs hook: the CLI reference page, generated from the ``bigflow`` click command tree at build time.

``docs/cli.md`` holds the marker ``<!-- bigflow-cli-reference -->``; this hook replaces it with every command
of ``bigflow`` -- core's (imported lazily by ``bigflow.cli.app.BigflowGroup``) and the ones installed plugins
contribute -- each with its usage, help text, arguments, options and subcommands, walked recursively. Nothing
is copied by hand: what the page says is what ``bigflow COMMAND --help`` says in the environment that builds
the docs.

The build fails (``PluginError``) when the CLI cannot be loaded, a command cannot be resolved (e.g. a broken
plugin), or the marker is missing.
"""

from __future__ import annotations

import html
import inspect
import re

from mkdocs.exceptions import PluginError

PAGE = "cli.md"
MARKER = "<!-- bigflow-cli-reference -->"
PROG = "bigflow"

# Characters Python-Markdown would read as markup in help text (``<`` is escaped as an entity instead).
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+!|])")


def _text(value: str) -> str:
    """Help text as literal Markdown text: markup characters escaped, HTML-sensitive ones as entities."""
    return _MARKUP.sub(r"\\\1", html.escape(value, quote=False))


def _code(value: str) -> str:
    """Inline code (table pipes inside code spans are not cell separators for Python-Markdown's tables)."""
    return f"`` {value} ``" if "`" in value else f"`{value}`"


def _paragraphs(help_text: str) -> list[str]:
    """Click help text as Markdown paragraphs: wrapped lines joined, ``\\b`` blocks kept line by line."""
    help_text = inspect.cleandoc(help_text.split("\f", 1)[0])
    blocks = []
    for block in re.split(r"\n\s*\n", help_text):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            blocks.append("```text\n" + "\n".join(lines[1:]) + "\n```")
        elif block.strip():
            blocks.append(_text(" ".join(line.strip() for line in lines)))
    return blocks


def _load_cli():
    try:
        import click

        from bigflow.cli import app
    except Exception as error:  # noqa: BLE001 - any failure to load the CLI must stop the build
        raise PluginError(f"cli_reference hook: cannot import the bigflow CLI ({type(error).__name__}: {error}); "
                          "build the docs with the workspace venv (.venv/bin/mkdocs, see 'bash scripts/setup')"
                          ) from error
    if not isinstance(getattr(app, "cli", None), click.Group):
        raise PluginError("cli_reference hook: bigflow.cli.app.cli is not a click group")
    return click, app


def _resolve(group, ctx, name: str):
    try:
        command = group.get_command(ctx, name)
    except Exception as error:  # noqa: BLE001 - a plugin command that cannot load must stop the build
        raise PluginError(f"cli_reference hook: cannot load '{ctx.command_path} {name}': "
                          f"{type(error).__name__}: {error}") from error
    if command is None:
        raise PluginError(f"cli_reference hook: {ctx.command_path} lists {name!r} but cannot resolve it")
    return command


def _walk(click, group, ctx):
    """(path, command, context) of every visible subcommand of ``group``, depth first, sorted by name."""
    for name in group.list_commands(ctx):
        command = _resolve(group, ctx, name)
        if command.hidden:
            continue
        sub_ctx = click.Context(command, info_name=name, parent=ctx, **command.context_settings)
        yield sub_ctx.command_path, command, sub_ctx
        if isinstance(command, click.Group):
            yield from _walk(click, command, sub_ctx)


def _anchor(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def _providers(app) -> dict[str, str]:
    """Top-level command name -> the distribution providing it: bigflow-core, a plugin, or "a plugin"."""
    core = set(getattr(app, "CORE_COMMANDS", {})) | set(getattr(app, "ALIASES", {}))
    plugin_commands = getattr(app, "_plugin_commands", None)  # from plugin metadata, as 'bigflow --help' shows
    declared = dict(plugin_commands()) if plugin_commands else {}
    names = app.cli.list_commands(click_context(app))
    return {name: "bigflow-core" if name in core else declared.get(name, "a plugin") for name in names}


def click_context(app):
    import click

    return click.Context(app.cli, info_name=PROG, **app.cli.context_settings)


def _aliases(app) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for alias, name in getattr(app, "ALIASES", {}).items():
        found.setdefault(name, []).append(alias)
    return found


def _section(click, path: str, command, ctx, depth: int, provider: str | None, aliases: list[str]) -> list[str]:
    out = [f"{'#' * min(depth + 1, 6)} {path} {{#{_anchor(path)}}}", ""]
    if provider and provider != "bigflow-core":
        out += [f"*Provided by the `{provider}` plugin.*" if provider != "a plugin" else "*Provided by a plugin.*", ""]
    if aliases:
        out += ["Aliases: " + ", ".join(f"`{PROG} {a}`" for a in aliases), ""]
    if command.deprecated:
        out += ["**Deprecated.**", ""]
    out += ["```text", command.get_usage(ctx), "```", ""]
    for paragraph in _paragraphs(command.help or command.short_help or ""):
        out += [paragraph, ""]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if arguments:
        out += ["| Argument | |", "|---|---|"]
        for argument in arguments:
            notes = ["required" if argument.required else "optional"]
            if argument.nargs == -1:
                notes.append("any number")
            out.append(f"| {_code(argument.make_metavar(ctx))} | {', '.join(notes)} |")
        out.append("")
    options = [record for p in command.get_params(ctx) if not isinstance(p, click.Argument)
               and (record := p.get_help_record(ctx)) is not None]
    if options:
        out += ["| Option | Description |", "|---|---|"]
        out += [f"| {_code(names)} | {_text(help_) or ' '} |" for names, help_ in options]
        out.append("")
    if isinstance(command, click.Group):
        subcommands = [(n, c) for n in command.list_commands(ctx) if not (c := _resolve(command, ctx, n)).hidden]
        if subcommands:
            out += ["| Subcommand | |", "|---|---|"]
            out += [f"| [`{path} {n}`](#{_anchor(f'{path} {n}')}) | {_text(c.get_short_help_str(limit=200))} |"
                    for n, c in subcommands]
            out.append("")
    return out


def render() -> str:
    """The Markdown of the whole reference."""
    click, app = _load_cli()
    from bigflow import exit_codes

    root = app.cli
    ctx = click_context(app)
    providers = _providers(app)
    aliases = _aliases(app)
    summaries = {name: entry[1] for name, entry in getattr(app, "CORE_COMMANDS", {}).items()}
    commands = list(_walk(click, root, ctx))
    if not commands:
        raise PluginError("cli_reference hook: the bigflow CLI lists no command")

    out = ["```text", root.get_usage(ctx), "```", ""]
    out += [p + "\n" for p in _paragraphs(root.help or "")]
    out += ["| Global option | Description |", "|---|---|"]
    out += [f"| {_code(names)} | {_text(help_)} |" for p in root.get_params(ctx)
            if (record := p.get_help_record(ctx)) is not None for names, help_ in [record]]
    out += ["", "## Exit codes", "", "Every command exits with one of these (`bigflow.exit_codes`):", "",
            "| Code | Meaning |", "|---|---|"]
    out += [f"| {code} | {_text(meaning)} |" for code, meaning in exit_codes.TABLE]
    out += ["", "## Commands", "", "| Command | | Provided by |", "|---|---|---|"]
    for path, command, _ in commands:
        if path.count(" ") == 1:
            name = path.split(" ", 1)[1]
            summary = summaries.get(name) or command.get_short_help_str(limit=200)
            out.append(f"| [`{path}`](#{_anchor(path)}) | {_text(summary)} | "
                       f"{providers.get(name, 'a plugin')} |")
    out.append("")
    for path, command, sub_ctx in commands:
        depth = path.count(" ")
        name = path.split(" ")[1]
        out += _section(click, path, command, sub_ctx, depth, providers.get(name) if depth == 1 else None,
                        aliases.get(name, []) if depth == 1 else [])
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"cli_reference hook: {PAGE} lacks the marker {MARKER}")
    return markdown.replace(MARKER, render())
