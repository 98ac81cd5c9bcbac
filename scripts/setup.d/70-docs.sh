#!/usr/bin/env bash
# The documentation site (mkdocs.yml, docs/), its browser test and the tutorial's test:
#   - mermaid, pinned, from the npm registry into ${BIGFLOW_CACHE:-/var/cache/bigflow-ci}/docs/ (checked
#     against its sha256): docs/hooks/mermaid.py puts it into the site, so diagrams render with no network;
#   - Chromium (Debian's) for tests/test_docs.py, which opens the built site headless;
#   - the wheelhouse of uv.lock (scripts/wheelhouse) that tests/test_tutorial.py installs the tutorial's
#     fresh venv from.
# Idempotent: a second run finds all three and only checks them.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v npm >/dev/null 2>&1; then
    echo "    installing npm (Debian) to fetch mermaid"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq npm >/dev/null
fi
.venv/bin/python docs/hooks/mermaid.py

if ! command -v chromium >/dev/null 2>&1; then
    echo "    installing Chromium (Debian) for the site's browser test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi
echo "    $(chromium --version 2>/dev/null | head -n 1)"
echo "    wheelhouse: $(bash scripts/wheelhouse)"
