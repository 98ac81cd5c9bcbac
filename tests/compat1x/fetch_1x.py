"""Fetch BigFlow 1.11.3's sdist from PyPI (pinned by sha256) and unpack it: its ``test/`` holds 1.x's test files.

    python tests/compat1x/fetch_1x.py        ->  prints the unpacked directory (cached)

The sdist has the test files but not their helpers (``test/mixins.py``, ``test/resources/``) nor
``examples_project``: those need a checkout (``git clone -b 1.11.3 https://github.com/allegro/bigflow``). The
download goes through PyPI's simple index (``pip download`` cannot fetch it: the sdist's ``setup.py`` reads a
``requirements/`` directory the sdist lacks).
"""

from __future__ import annotations

import hashlib
import re
import sys
import tarfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run_1x_tests import CACHE  # noqa: E402

INDEX = "https://pypi.org/simple/bigflow/"
SDIST = "bigflow-1.11.3.tar.gz"
SHA256 = "21f10e2887d21e81d2e1912160e370ad97de3d431abd1578b2301764500f07e6"


def fetch() -> Path:
    """The unpacked sdist (downloaded once into the cache directory)."""
    target = CACHE / SDIST.removesuffix(".tar.gz")
    if (target / "test" / "test_workflow.py").is_file():
        return target
    page = urllib.request.urlopen(INDEX, timeout=60).read().decode()
    urls = [url for url in re.findall(r'href="([^"#]+)', page) if url.endswith("/" + SDIST)]
    if not urls:
        raise SystemExit(f"error: {SDIST} is not listed on {INDEX}")
    data = urllib.request.urlopen(urls[0], timeout=120).read()
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise SystemExit(f"error: {urls[0]} does not have the pinned sha256 {SHA256}")
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / SDIST
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return target


if __name__ == "__main__":
    print(fetch())
