"""Keeping the project's secret values out of what ``bigflow build`` makes: its Docker image and its sdist.

``pyproject_without_secrets``: the ``pyproject.toml`` of the image and of the sdist is the project's minus
every secret value of an environment table — a value whose key, or a key above it inside
``[tool.bigflow.environments.<env>]``, is named like a secret (``is_secret_key``) or is the name of a secret
setting (``secret_names``) — in every TOML form (plain, quoted or dotted keys, multi-line strings and arrays,
inline tables, sub-tables, arrays of tables). The rewrite keeps every other line as written (comments
included): a statement that sets a secret becomes a comment, one whose inline table or array holds a secret is
written anew without it. The result is parsed and checked against the original minus the secrets; a rewrite
that fails the check refuses the build, naming the file and the key, instead of copying a secret. Secret values
in comments (of the file's secrets, and of the build environment's) are masked, also in the comments inside a
multi-line array or inline table; strings, multi-line ones too, stay as written (a ``#`` in one is no comment).

``literal_secrets``: code cannot be rewritten, so literal values of secret keys in the project's ``Config``,
``DeploymentConfig`` and ``DatasetConfig`` calls (``deployment_config.py`` and the package's modules, both in
the image) are found with ``ast`` (without importing anything) and reported, one per value.
"""

from __future__ import annotations

import ast
import json
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bigflow.configuration import MASK, is_secret_key, masked_forms
from bigflow.errors import ConfigError

ENVIRONMENTS = ("tool", "bigflow", "environments")


def secret_names(env: Any) -> frozenset[str]:
    """The keys ``env`` (an Environment) holds as secrets, and the names of every setting declared secret."""
    declared = {name for name, item in env.registry.by_name.items() if item.setting.secret}
    return frozenset(env.secret_keys) | declared


# -- pyproject.toml -----------------------------------------------------------------------------------


def is_secret_path(path: tuple[Any, ...], names: Iterable[str]) -> bool:
    """True for a value inside an environment table under a key named like a secret or named in ``names``
    (at any depth; the ints of ``path`` are indexes of arrays)."""
    return path[:3] == ENVIRONMENTS and any(
        isinstance(key, str) and (is_secret_key(key) or key in names) for key in path[4:])


def without_secret_values(value: Any, path: tuple[Any, ...], names: Iterable[str],
                          removed: list[tuple[Any, ...]]) -> Any:
    """``value`` (found at ``path``) without its secret values; their paths are appended to ``removed``."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if is_secret_path((*path, key), names):
                removed.append((*path, key))
            else:
                kept[key] = without_secret_values(item, (*path, key), names, removed)
        return kept
    if isinstance(value, list):
        return [without_secret_values(item, (*path, index), names, removed) for index, item in enumerate(value)]
    return value


def _bf_variables(paths: Iterable[tuple[Any, ...]]) -> str:
    """``bf_api_token`` or ``bf_a, bf_b``: the variables that supply these values in a container."""
    return ", ".join(dict.fromkeys(f"bf_{path[4]}" for path in paths if len(path) > 4))


def _left_out(indent: str, paths: list[tuple[Any, ...]]) -> str:
    shown = ", ".join(".".join(str(key) for key in path[3:]) for path in paths)
    return f"{indent}# {shown}: secret, left out of the build (set {_bf_variables(paths)} where it runs)"


def _single_key_path(document: dict[str, Any]) -> tuple[str, ...]:
    """The keys of a document that holds one nested key (a table header, or ``key = 0``)."""
    path: list[str] = []
    node: Any = document
    while isinstance(node, dict | list) and node:
        if isinstance(node, list):
            node = node[-1]
            continue
        ((key, node),) = node.items()
        path.append(key)
    return tuple(path)


def _unquoted(text: str) -> Iterator[int]:
    """The indexes of the characters of ``text`` (a line, or a statement of several) outside quoted strings. Of
    a comment only its ``#`` is yielded (a quote in a comment opens no string); a multi-line string spans lines,
    and the last three of four or five quotes close it (the first are its own)."""
    quote, index = "", 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and quote[0] == '"':
                index += 1
            elif text.startswith(quote, index):
                end = index + len(quote)
                while len(quote) == 3 and end < index + 5 and text.startswith(quote[0], end):
                    end += 1
                index, quote = end - 1, ""
        elif char == "#":
            yield index
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
            continue
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, index) else char  # ''' and """ open multi-line strings
            index += len(quote) - 1
        else:
            yield index
        index += 1


def _outside_quotes(line: str, wanted: str) -> int:
    """The index of the first ``wanted`` character of ``line`` outside quoted strings and comments (-1 when
    none): the ``=`` after a key (quoted keys may contain one)."""
    return next((index for index in _unquoted(line) if line[index] == wanted), -1)


def _masked_comments(text: str, mask: Callable[[str], str]) -> str:
    """``text`` (a line, or a statement that spans several, such as a multi-line array) with ``mask`` applied to
    each comment; strings, multi-line ones too, stay as written."""
    out, done = [], 0
    for start in (index for index in _unquoted(text) if text[index] == "#"):
        newline = text.find("\n", start)
        end = len(text) if newline < 0 else newline
        out += [text[done:start], mask(text[start:end])]
        done = end
    return "".join(out) + text[done:]


def _statements(lines: list[str]) -> Iterator[tuple[int, int, str, Any]]:
    """``(first line, end line, key text, value)`` of each key/value statement, and ``(line, line + 1, "[",
    header path)`` of each table header; blank and comment lines are skipped. Each value is read by tomllib
    from the fewest lines that hold it (a multi-line string or array spans several)."""
    index = 0
    while index < len(lines):
        text = lines[index].strip()
        if not text or text.startswith("#"):
            index += 1
        elif text.startswith("["):
            yield index, index + 1, "[", _single_key_path(tomllib.loads(lines[index]))
            index += 1
        else:
            equals = _outside_quotes(lines[index], "=")
            rest = lines[index][equals + 1:]
            for end in range(index + 1, len(lines) + 1):
                try:
                    value = tomllib.loads(f"v = {rest}{''.join(lines[index + 1:end])}")["v"]
                except tomllib.TOMLDecodeError:
                    continue
                yield index, end, lines[index][:equals].strip(), value
                index = end
                break
            else:
                raise ValueError(f"line {index + 1} is not a TOML statement")


def toml_value(value: Any) -> str:
    """``value`` (as tomllib reads it) written as a one-line TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # a TOML basic string
    if isinstance(value, int | float):
        return repr(value)  # TOML spells inf and nan as Python does
    if isinstance(value, dict):
        items = (f"{json.dumps(key, ensure_ascii=False)} = {toml_value(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return value.isoformat()  # date, time, datetime


def _rewrite(text: str, names: Iterable[str], mask: Callable[[str], str]) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    table: tuple[Any, ...] = ()
    written = 0
    for first, end, key, value in _statements(lines):
        out += [_masked_comments(line, mask) for line in lines[written:first]]  # blank and comment lines
        written = end
        line = lines[first]
        indent = line[:len(line) - len(line.lstrip())]
        newline = "\r\n" if line.endswith("\r\n") else "\n"
        if key == "[":
            table = value
            out.append(_left_out(indent, [table]) + newline if is_secret_path(table, names) else
                       _masked_comments(line, mask))
            continue
        if is_secret_path(table, names):
            continue  # a key of a secret table: its header's comment says it
        path = (*table, *_single_key_path(tomllib.loads(f"{key} = 0")))
        removed: list[tuple[Any, ...]] = []
        kept = without_secret_values({path[-1]: value}, path[:-1], names, removed)
        if not removed:
            out.append(_masked_comments("".join(lines[first:end]), mask))  # a multi-line array's too
        elif path in removed:
            out.append(_left_out(indent, [path]) + newline)
        else:
            out.append(f"{indent}{key} = {toml_value(kept[path[-1]])}  {_left_out('', removed)}{newline}")
    out += [_masked_comments(line, mask) for line in lines[written:]]
    return "".join(out)


def _string_leaves(value: Any) -> Iterator[str]:
    """Every string in ``value`` (a TOML value)."""
    if isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _string_leaves(item)
    elif isinstance(value, str):
        yield value


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


_NAN = object()  # nan != nan: compared as this


def _pruned(value: Any) -> Any:
    """``value`` without tables that are (or became) empty (removing a table's last key may remove it)."""
    if isinstance(value, dict):
        items = ((key, _pruned(item)) for key, item in value.items())
        return {key: item for key, item in items if item != {}}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return _NAN if value != value else value


def checked(original: dict[str, Any], result: str, names: Iterable[str], file: str) -> str:
    """``result`` when it parses as ``original`` minus its secret values; else a one-line error naming the file
    and a secret key and saying how to fix it."""
    removed: list[tuple[Any, ...]] = []
    expected = without_secret_values(original, (), names, removed)
    try:
        same = _pruned(tomllib.loads(result)) == _pruned(expected)
    except tomllib.TOMLDecodeError:
        same = False
    if same:
        return result
    if not removed:
        raise ConfigError(f"{file}: cannot mask the secret values in its comments without changing a value; "
                          f"remove them from {file}")
    path = removed[0]
    raise ConfigError(f"{file}: cannot leave secret {'.'.join(map(str, path[4:]))!r} of environment {path[3]!r} out "
                      f"of the image in the form it is written; remove its value from {file} and set "
                      f"{_bf_variables([path])} in the container instead")


@dataclass(frozen=True)
class WithoutSecrets:
    """A ``pyproject.toml`` without its secret values, and the paths of the values left out."""

    text: str
    removed: list[tuple[Any, ...]]


def pyproject_without_secrets(text: str, names: Iterable[str], file: str = "pyproject.toml",
                              mask: Callable[[str], str] = lambda text: text) -> WithoutSecrets:
    """``text`` minus its secret values (see the module docstring). Comments are masked: the file's secret
    values, and what ``mask`` (e.g. the build environment's ``Environment.mask``) hides, become ``***``."""
    names = frozenset(names)
    try:
        original = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{file} is not valid TOML: {error}") from None
    removed: list[tuple[Any, ...]] = []
    without_secret_values(original, (), names, removed)
    forms = sorted({form for path in removed for value in _string_leaves(_at(original, path))
                    for form in masked_forms(value)}, key=len, reverse=True)

    def masked(comment: str) -> str:
        for form in forms:
            comment = comment.replace(form, MASK)
        return mask(comment)

    try:
        result = _rewrite(text, names, masked)
    except (ValueError, tomllib.TOMLDecodeError):  # a form the rewrite does not know: refused by the check
        result = "" if removed else text
    return WithoutSecrets(checked(original, result, names, file), removed)


# -- code configs -------------------------------------------------------------------------------------


#: the calls that take a config's properties, and the positions these may have (DatasetConfig's differ)
_CONFIG_CALLS = {"Config": (1,), "DeploymentConfig": (1,), "DatasetConfig": (5,), "add_configuration": (1, 5)}
_TEMPLATE = "{"


@dataclass(frozen=True)
class LiteralSecret:
    """A literal value of a secret key in a code config: where it is written."""

    file: str
    line: int
    env: str
    key: str

    def __str__(self) -> str:
        return (f"{self.file}:{self.line}: environment {self.env!r}, key {self.key!r}: its literal value goes into "
                f"the image; read it from bf_{self.key} instead")


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _argument(call: ast.Call, position: int | None, *names: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return call.args[position] if position is not None and len(call.args) > position else None


def _literal(node: ast.expr | None) -> Any:
    """The constant ``node`` writes, also inside ``secret("...")`` / ``SecretStr("...")``; else None."""
    if isinstance(node, ast.Call) and _called(node) in ("secret", "SecretStr") and len(node.args) == 1:
        node = node.args[0]
    return node.value if isinstance(node, ast.Constant) else None


def _strings(node: ast.expr | None) -> set[str]:
    elements = node.elts if isinstance(node, ast.List | ast.Tuple | ast.Set) else []
    return {value for value in map(_literal, elements) if isinstance(value, str)}


def _items(node: ast.expr | None, assigned: dict[str, ast.expr]) -> Iterator[tuple[str, ast.expr]]:
    """``(key, value node)`` of a dict display, a ``dict(k=...)`` call, or a module-level name bound to one."""
    if isinstance(node, ast.Name) and node.id in assigned:
        node = assigned[node.id]
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield key.value, value
    elif isinstance(node, ast.Call) and _called(node) == "dict":
        yield from ((k.arg, k.value) for k in node.keywords if k.arg)


def _is_literal_secret(key: str, node: ast.expr, secrets: set[str]) -> bool:
    value = _literal(node)
    marked = isinstance(node, ast.Call) and _called(node) in ("secret", "SecretStr")
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        return False
    if isinstance(value, str) and _TEMPLATE in value:  # '{db_password}' refers to another key: no literal
        return False
    return marked or is_secret_key(key) or key in secrets


def scan_configs(source: str, file: str, names: Iterable[str]) -> list[LiteralSecret]:
    """The literal secret values of the config calls in one module's source."""
    try:
        tree = ast.parse(source, file)
    except (SyntaxError, ValueError):
        return []  # reported by the commands that import it
    assigned = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _called(node) in _CONFIG_CALLS]
    secrets = set(names).union(*(_strings(_argument(call, None, "secrets")) for call in calls))
    found = []
    for call in calls:
        env = _literal(_argument(call, 0, "name", "env"))
        for position in _CONFIG_CALLS[_called(call)]:
            items = list(_items(_argument(call, position, "properties"), assigned))
            found += [LiteralSecret(file, node.lineno, env if isinstance(env, str) else "?", key)
                      for key, node in items if _is_literal_secret(key, node, secrets)]
            if items:
                break
    return sorted(set(found), key=lambda f: f.line)


def literal_secrets(root: Path, package_dir: Path, names: Iterable[str]) -> list[LiteralSecret]:
    """Literal secret values in ``deployment_config.py`` and the package's modules (both go into the image)."""
    files = [root / "deployment_config.py"] + sorted(package_dir.rglob("*.py"))
    found = []
    for path in files:
        if path.is_file():
            found += scan_configs(path.read_text(errors="replace"), str(path.relative_to(root)), names)
    return found
