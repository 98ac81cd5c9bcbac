"""The four first-party plugins import core only through its public doors, like a third-party plugin must.

Allowed, and nothing else:
- ``bigflow.api``: the plugin API (``from bigflow.api import ...``);
- ``bigflow`` itself: ``import bigflow`` and ``from bigflow import NAME`` for the 1.x user names in
  ``bigflow.__all__`` (``Workflow``, ``Job``, ``JobContext``, ``Config``, ...), which user code uses too.
A submodule of core (``bigflow.environment``, ``bigflow.cli.output``, ...) is an internal: changing it must not
break a plugin.
"""

import ast
from pathlib import Path

import pytest

import bigflow

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("bigflow-bigquery", "bigflow-beam", "bigflow-spark", "bigflow-airflow")
ALLOWED_MODULES = {"bigflow.api"}
ALLOWED_TOP_LEVEL_NAMES = set(bigflow.__all__)


def core_imports(path: Path) -> list[str]:
    """Every import of core in a file that is not through an allowed door, as ``line: statement``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name.startswith("bigflow.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            if module == "bigflow":
                found += [f"{node.lineno}: from bigflow import {a.name}" for a in node.names
                          if a.name not in ALLOWED_TOP_LEVEL_NAMES]
            elif module.startswith("bigflow.") and module not in ALLOWED_MODULES:
                found.append(f"{node.lineno}: from {module} import ...")
    return found


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_imports_core_only_through_bigflow_api(plugin):
    sources = sorted((ROOT / "packages" / plugin / "src").rglob("*.py"))
    assert sources
    offending = {str(p.relative_to(ROOT)): found for p in sources if (found := core_imports(p))}
    assert offending == {}


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_name_a_plugin_imports_from_bigflow_api_exists(plugin):
    import bigflow.api

    wanted = {(alias.name, str(path.relative_to(ROOT)))
              for path in (ROOT / "packages" / plugin / "src").rglob("*.py")
              for node in ast.walk(ast.parse(path.read_text()))
              if isinstance(node, ast.ImportFrom) and node.module == "bigflow.api" for alias in node.names}
    assert wanted
    assert {(name, where) for name, where in wanted if name not in bigflow.api.__all__} == set()


def test_the_check_catches_internal_imports(tmp_path):
    source = tmp_path / "plugin.py"
    source.write_text("import bigflow\nfrom bigflow import Workflow, environment\nfrom bigflow.api import say\n"
                      "def f():\n    from bigflow.cli.output import print_table\n    import bigflow.builders\n")
    assert core_imports(source) == [
        "2: from bigflow import environment", "5: from bigflow.cli.output import ...", "6: import bigflow.builders",
    ]
