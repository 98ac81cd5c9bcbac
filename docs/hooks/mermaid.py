"""mkdocs hook: Mermaid diagrams that render with no network, from a copy of mermaid kept on this machine.

Material for MkDocs renders ```` ```mermaid ```` blocks in the browser with mermaid, which it loads from a CDN
unless a script of the page has defined ``mermaid`` first. This hook adds the npm package ``mermaid``'s
``dist/mermaid.min.js`` to the site (``assets/javascripts/mermaid.min.js``) and to every page's scripts, so
pages load nothing from the network.

The file comes from ``$BIGFLOW_CACHE/docs/`` (default ``/var/cache/bigflow-ci``), where
``python docs/hooks/mermaid.py`` (run by ``scripts/setup.d/70-docs.sh``) puts it: ``npm pack`` of the pinned
version from the npm registry, checked against its sha256. The build fails when the file is missing or differs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "11.12.0"  # the major version Material for MkDocs expects (mermaid@11)
SHA256 = "07e37dfa97b337ccc85365d57eddf99b9706f09db3b59b260d0333b23b343c4b"  # of dist/mermaid.min.js
SITE_PATH = "assets/javascripts/mermaid.min.js"
SETUP = "bash scripts/setup.d/70-docs.sh"


def cached() -> Path:
    cache = Path(os.environ.get("BIGFLOW_CACHE", "/var/cache/bigflow-ci"))
    return cache / "docs" / f"mermaid-{VERSION}.min.js"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch() -> Path:
    """The pinned mermaid.min.js in the cache, fetched from the npm registry when missing; its path."""
    target = cached()
    if target.is_file() and _digest(target) == SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mermaid-") as tmp:
        subprocess.run(["npm", "pack", f"mermaid@{VERSION}", "--silent", "--pack-destination", tmp], check=True,
                       stdout=subprocess.DEVNULL, cwd=tmp)
        (archive,) = Path(tmp).glob("mermaid-*.tgz")
        with tarfile.open(archive) as tar:
            staged = Path(tmp) / "mermaid.min.js"
            staged.write_bytes(tar.extractfile("package/dist/mermaid.min.js").read())
        if _digest(staged) != SHA256:
            raise SystemExit(f"mermaid {VERSION} from npm has sha256 {_digest(staged)}, expected {SHA256}")
        staged.replace(target)
    return target


def on_config(config):
    config.extra_javascript.append(SITE_PATH)
    return config


def on_files(files, config):
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    source = cached()
    if not source.is_file() or _digest(source) != SHA256:
        raise PluginError(f"mermaid hook: {source} is missing or is not mermaid {VERSION}; run '{SETUP}'")
    files.append(File.generated(config, SITE_PATH, abs_src_path=str(source)))
    return files


if __name__ == "__main__":
    print(f"mermaid {VERSION}: {fetch()}", file=sys.stderr)
