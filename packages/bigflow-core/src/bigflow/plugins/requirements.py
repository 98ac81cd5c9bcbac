"""``required-plugins`` of a project: every listed plugin must be installed, in range and loaded."""

from __future__ import annotations

from bigflow.errors import PluginError
from bigflow.project import Project, find_project


def check_required(project: Project | None = None) -> None:
    """Raise one PluginError naming the pip command that fixes every missing or out-of-range plugin."""
    project = project or find_project()
    if project is None:
        return
    wanted = project.settings.get("required-plugins", [])
    if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        raise PluginError(f"[tool.bigflow] required-plugins must be a list of strings, got {wanted!r}")
    if not wanted:
        return
    from importlib import metadata

    from bigflow import plugins
    from bigflow.plugins.manager import OK
    from bigflow.plugins.versions import InvalidRange, contains, requirement

    missing: list[str] = []
    broken: list[str] = []
    host = plugins.host()
    for text in wanted:
        try:
            name, specifiers = requirement(text)
        except InvalidRange:
            raise PluginError(f"[tool.bigflow] required-plugins: {text!r} is not a valid requirement") from None
        plugin = host.plugin(name)
        try:  # a plugin's version comes with its entry points; only other distributions are looked up
            installed = plugin.info.version if plugin is not None else metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(text)
            continue
        try:
            in_range = contains(specifiers, installed)
        except InvalidRange:
            raise PluginError(f"[tool.bigflow] required-plugins: {text!r} is not a valid requirement") from None
        if not in_range:
            missing.append(text)
            continue
        if plugin is None:
            broken.append(f"{name} is installed but is not a bigflow plugin")
        elif host.load() and plugin.status != OK:
            broken.append(f"{name} is {plugin.status_text}")
    if missing:
        quoted = " ".join(f"'{m}'" for m in missing)
        raise PluginError(
            f"project requires missing plugin(s) {', '.join(missing)}: run pip install {quoted}"
        )
    if broken:
        raise PluginError("required plugin problem: " + "; ".join(broken))
