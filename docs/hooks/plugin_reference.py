"""mkdocs hook: the plugin reference page, generated from the hook specifications and protocols at build time.

``docs/plugin-reference.md`` holds the marker ``<!-- bigflow-plugin-reference -->``; this hook replaces it with
every hook core specifies (``bigflow.plugins.hookspecs``) and every hook the installed plugins add with
``register_hookspecs`` (e.g. bigflow-airflow's ``register_dag_renderers``): its signature with argument types,
when it is called, every argument, what it returns, first-result or not. Then the contribution kinds
(``bigflow.plugins.kinds``) and the protocols and ``Option`` of ``bigflow.contracts``. ``render()`` is what the
tests check: a hook spec without a docstring that says when it is called and documents each argument fails
them, and so the docs build.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

PAGE = "plugin-reference.md"
MARKER = "<!-- bigflow-plugin-reference -->"


def _doc(obj: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """A docstring as (paragraph lines, [(param, text)]) from its reST ``:param name:`` fields."""
    text = inspect.cleandoc(obj.__doc__ or "")
    body, params = [], []
    for chunk in re.split(r"\n(?=:param )", text):
        if chunk.startswith(":param "):
            name, _, rest = chunk[len(":param "):].partition(":")
            params.append((name.strip(), " ".join(rest.split())))
        else:
            body.append(chunk)
    return "\n".join(body).strip().split("\n\n"), params


def _signature(function: Any, skip_self: bool = False) -> str:
    parameters = list(inspect.signature(function).parameters.values())
    if skip_self and parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    shown = []
    for p in parameters:
        annotation = f": {p.annotation}" if p.annotation is not inspect.Parameter.empty else ""
        prefix = "**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else ""
        default = f" = {p.default!r}" if p.default is not inspect.Parameter.empty else ""
        shown.append(f"{prefix}{p.name}{annotation}{default}")
    returns = inspect.signature(function).return_annotation
    arrow = f" -> {returns}" if returns is not inspect.Signature.empty else ""
    return f"{function.__name__}({', '.join(shown)}){arrow}"


def hook_specs() -> list[tuple[str, Any, dict[str, Any]]]:
    """(source, spec function, options) of every hook: core's, then those plugins add, by name."""
    from bigflow import plugins

    host = plugins.host().load()
    found = []
    for name in sorted(vars(host.pm.hook)):
        caller = getattr(host.pm.hook, name)
        spec = getattr(caller, "spec", None)
        if spec is None:
            continue
        module = getattr(spec.namespace, "__name__", "") or type(spec.namespace).__module__
        source = "bigflow-core" if module.startswith("bigflow.") else module.split(".")[0].replace("_", "-")
        found.append((source, spec.function, dict(spec.opts)))
    return sorted(found, key=lambda item: (item[0] != "bigflow-core", item[2].get("historic", False), item[1].__name__))


def problems(function: Any) -> list[str]:
    """What a hook spec's documentation lacks (empty when complete)."""
    name = function.__name__
    body, params = _doc(function)
    found = []
    if not re.search(r"\bCalled\b", " ".join(body)):
        found.append(f"{name}: the docstring does not say when it is called ('Called ...')")
    documented = dict(params)
    for parameter in inspect.signature(function).parameters:
        if parameter != "self" and not documented.get(parameter):
            found.append(f"{name}: argument {parameter!r} is not documented (':param {parameter}:')")
    return found


def _hook_section(source: str, function: Any, opts: dict[str, Any]) -> list[str]:
    body, params = _doc(function)
    facts = ["first result: **yes** (the first non-None answer wins)" if opts.get("firstresult")
             else "first result: no (every implementation is called; results are a list)"]
    if opts.get("historic"):
        facts.append("historic: a plugin registered later is called at once")
    if source != "bigflow-core":
        facts.append(f"added by the `{source}` plugin")
    out = [f"### `{function.__name__}`", "", "```python", f"@hookimpl\ndef {_signature(function, True)}: ...",
           "```", "", "; ".join(facts) + ".", ""]
    for paragraph in body:
        out += [" ".join(paragraph.split()), ""]
    if params:
        out += ["| Argument | |", "|---|---|"]
        out += [f"| `{name}` | {text.replace('|', '&#124;')} |" for name, text in params]
        out.append("")
    return out


def _protocol_section(cls: Any) -> list[str]:
    body, _ = _doc(cls)
    out = [f"### `{cls.__name__}`", ""]
    for paragraph in body:
        out += [" ".join(paragraph.split()), ""]
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_") or name in ("key", "click_option", "value"):
            continue
        if inspect.isfunction(value):
            doc = " ".join(inspect.cleandoc(value.__doc__ or "").split())
            members.append(f"- `{_signature(value, True)}`" + (f": {doc}" if doc else ""))
    for name, annotation in getattr(cls, "__annotations__", {}).items():
        if not name.startswith("_"):
            default = getattr(cls, name, inspect.Parameter.empty)
            shown = f" = {default!r}" if default is not inspect.Parameter.empty and not isinstance(default, property) else ""
            members.append(f"- `{name}: {annotation}{shown}`")
    return out + members + [""]


def render() -> str:
    from bigflow import contracts
    from bigflow.plugins.kinds import KINDS

    specs = hook_specs()
    missing = [p for _, function, _ in specs for p in problems(function)]
    if missing:
        raise ValueError("undocumented hook specs: " + "; ".join(missing))
    out = ["## Hooks", ""]
    for source, function, opts in specs:
        out += _hook_section(source, function, opts)
    out += ["## Contribution kinds", "", "| Kind (`bigflow.provides` key) | Hook | Registered object |", "|---|---|---|"]
    out += [f"| `{k.key}` ({k.label}) | `{k.hook}` | `{k.protocol}` |" for k in KINDS.values()]
    out += ["", "## Protocols and `Option`", ""]
    for cls in (contracts.JobType, contracts.ConfigSource, contracts.ArtifactBuilder, contracts.DeployTarget,
                contracts.Starter, contracts.Option):
        out += _protocol_section(cls)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    from mkdocs.exceptions import PluginError

    if MARKER not in markdown:
        raise PluginError(f"plugin_reference hook: {PAGE} has no {MARKER}")
    try:
        return markdown.replace(MARKER, render())
    except ValueError as error:
        raise PluginError(f"plugin_reference hook: {error}") from error
