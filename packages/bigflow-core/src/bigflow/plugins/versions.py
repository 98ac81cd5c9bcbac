"""Version ranges (``>=0.1,<1``) checked without importing ``packaging`` when they are plain numbers.

``packaging`` costs about 20 ms to import, a fifth of a cold ``bigflow build dags -w ID``; the ranges plugins and
projects write are nearly always plain numeric clauses. Anything else goes through ``packaging``.
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"^\s*(>=|<=|<|>|==|!=)\s*(\d+(?:\.\d+)*)\s*$")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*([<>=!][^\[\];@]*)?")
_COMPARE = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


class InvalidRange(ValueError):
    """A version range or requirement that does not parse."""


def _numeric(version: str, width: int) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (width - len(parts)))


def contains(specifiers: str, version: str) -> bool:
    """Whether ``version`` is in ``specifiers`` (pre-releases count); InvalidRange when they do not parse."""
    clauses = [_CLAUSE.match(c) for c in specifiers.split(",")] if specifiers.strip() else []
    if all(clauses) and _RELEASE.fullmatch(version):
        width = max([len(version.split("."))] + [len(m[2].split(".")) for m in clauses if m])
        return all(_COMPARE[m[1]](_numeric(version, width), _numeric(m[2], width)) for m in clauses if m)
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion

    try:
        return SpecifierSet(specifiers).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        raise InvalidRange(specifiers) from None


def requirement(text: str) -> tuple[str, str]:
    """``(name, specifiers)`` of a requirement such as ``bigflow-beam>=0.1,<1``; InvalidRange when it does not parse."""
    simple = _REQUIREMENT.fullmatch(text)
    if simple:
        return simple[1], (simple[2] or "").strip()
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(text)
    except InvalidRequirement:
        raise InvalidRange(text) from None
    return parsed.name, str(parsed.specifier)
