"""mkdocs hook: a workflow's job graph, drawn by ``bigflow workflows show ID --format mermaid`` at build time.

A page holds the marker ``<!-- bigflow workflows show ID --format mermaid -->``; this hook replaces it with a
```` ```mermaid ```` block of that command's output, run in a project that ``bigflow start-project shop
--no-input`` creates (once per build, in a temporary directory) with the plugins of the venv that builds the
docs: the graph on the page is the one the tutorial's project has. It is drawn top to bottom (``flowchart TB``
for the command's ``flowchart LR``): a page is narrower than it is long. The build fails (``PluginError``) when
the command fails or prints no graph.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"<!-- bigflow workflows show (\S+) --format mermaid -->")
PROJECT = "shop"
BIGFLOW = str(Path(sys.executable).parent / "bigflow")

_project: tempfile.TemporaryDirectory | None = None


def _bigflow(*args: str, cwd: Path) -> str:
    done = subprocess.run([BIGFLOW, *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=300)
    if done.returncode != 0:
        raise PluginError(f"workflow_graph hook: 'bigflow {' '.join(args)}' exited {done.returncode}: "
                          f"{(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def _project_dir() -> Path:
    global _project
    if _project is None:
        _project = tempfile.TemporaryDirectory(prefix="bigflow-docs-")
        _bigflow("start-project", PROJECT, "--no-input", cwd=Path(_project.name))
    return Path(_project.name) / PROJECT


def graph(workflow_id: str) -> str:
    text = _bigflow("workflows", "show", workflow_id, "--format", "mermaid", cwd=_project_dir()).strip()
    first, _, rest = text.partition("\n")
    if first.split()[:1] not in (["flowchart"], ["graph"]):
        raise PluginError(f"workflow_graph hook: 'bigflow workflows show {workflow_id} --format mermaid' printed "
                          f"no mermaid graph: {text[:200]!r}")
    return f"```mermaid\n{first.split()[0]} TB\n{rest}\n```"


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda match: graph(match.group(1)), markdown)


def on_post_build(config) -> None:
    global _project
    if _project is not None:
        _project.cleanup()
        _project = None
