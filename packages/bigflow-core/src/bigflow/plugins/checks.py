"""What ``bigflow plugins check`` verifies beyond loading: each plugin's ``bigflow.provides`` against what it
registers, that every "where it lives" reference names an existing object, and that the plugin names in
``BIGFLOW_LOAD_PLUGINS`` / ``BIGFLOW_DISABLE_PLUGINS`` are installed plugins."""

from __future__ import annotations

from bigflow.plugins import discovery
from bigflow.plugins.kinds import KINDS
from bigflow.plugins.manager import OK, Plugin, PluginHost, import_object, import_timeout, one_line


def registered_by(host: PluginHost) -> dict[str, dict[str, list[str]]]:
    """plugin name -> kind -> names it registered (a name two plugins registered counts for both)."""
    found: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        for name, item in host.contributions(kind).items():
            for owner in item.plugin.split(", "):
                found.setdefault(owner, {}).setdefault(kind, []).append(name)
    return found


def provides_problems(plugin: Plugin, registered: dict[str, list[str]]) -> list[str]:
    """Mismatches between a loaded plugin's ``bigflow.provides`` and its registrations, and dangling references."""
    if plugin.status != OK or not plugin.info.modules:  # not loaded, or registered in-process (tests)
        return []
    problems = []
    declared = plugin.info.provides
    for kind in KINDS.values():
        mine, said = set(registered.get(kind.key, [])), set(declared.get(kind.key, []))
        for name in sorted(said - mine):
            problems.append(f"{plugin.name}: declares {kind.label} {name!r} in bigflow.provides but never registers it")
        for name in sorted(mine - said):
            consequence = " (so it is never consulted)" if kind.key == "config_source" else ""
            problems.append(f"{plugin.name}: registers {kind.label} {name!r} but does not declare it in "
                            f"bigflow.provides{consequence}: add \"{kind.key}:{name}\" = \"module:object\"")
    timeout = import_timeout()
    for (kind, name), ref in sorted(plugin.info.locations.items()):
        try:
            import_object(ref, timeout)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - reported, whatever the plugin raises
            problems.append(f"{plugin.name}: {KINDS[kind].label} {name!r} is said to live at {ref!r}, which cannot "
                            f"be imported ({one_line(error)})")
    return problems


def unknown_selections(host: PluginHost) -> list[str]:
    """One line per name in BIGFLOW_LOAD_PLUGINS / BIGFLOW_DISABLE_PLUGINS that names no installed plugin,
    with the nearest installed one."""
    import difflib

    by_alias = {alias: plugin.name for plugin in host.plugins for alias in plugin.info.aliases}
    lines = []
    for variable in ("BIGFLOW_LOAD_PLUGINS", "BIGFLOW_DISABLE_PLUGINS"):
        for name in sorted((discovery.name_set(variable) or set()) - set(by_alias)):
            close = difflib.get_close_matches(name, sorted(by_alias), n=1)
            hint = f"did you mean {by_alias[close[0]]!r}?" if close else "see 'bigflow plugins list --all'"
            lines.append(f"{variable} names {name!r}, which is not an installed plugin; {hint}")
    return lines
