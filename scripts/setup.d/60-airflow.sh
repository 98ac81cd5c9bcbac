#!/usr/bin/env bash
# bigflow-airflow test setup: two Airflow venvs (2.10.5 and 3.3.2, each with the cncf-kubernetes and google
# providers) installed from the pinned lock files in packages/bigflow-airflow/tests/venvs/, and Debian's
# docker-registry (a local registry for the image-exists check). Idempotent: a second run only checks.
#
# Venvs live outside the repository: ${BIGFLOW_CACHE:-/var/cache/bigflow-ci}/airflow2 and /airflow3
# (the tests find them through the same rule, packages/bigflow-airflow/tests/airflow_venvs.py).
set -euo pipefail

locks="packages/bigflow-airflow/tests/venvs"
cache="${BIGFLOW_CACHE:-/var/cache/bigflow-ci}"
mkdir -p "$cache"

uv_cmd() {
    if command -v uv >/dev/null 2>&1; then uv "$@"; else python3 -m uv "$@"; fi
}

python_311() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    echo "60-airflow.sh: Python 3.11 is needed for the Airflow venvs (install python3.11)" >&2
    exit 1
}

ensure_venv() {  # $1 = 2 or 3, $2 = the expected apache-airflow version
    local major="$1" want="$2" venv="$cache/airflow$1" lock="$locks/airflow$1.txt"
    local stamp="$venv/.bigflow-lock.sha256" digest
    digest="$(sha256sum "$lock" | cut -d' ' -f1)"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ] \
        && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))' 2>/dev/null)" = "$want" ]; then
        echo "Airflow $want: $venv (up to date)"
        return
    fi
    echo "Airflow $want: installing into $venv from $lock"
    [ -x "$venv/bin/python" ] || UV_PYTHON_DOWNLOADS=never uv_cmd venv --quiet -p "$(python_311)" "$venv"
    UV_PYTHON_DOWNLOADS=never uv_cmd pip sync --quiet --python "$venv/bin/python" "$lock"
    # compile the DAG-parsing path once, so the first test does not pay for it
    AIRFLOW_HOME="$venv/.home" AIRFLOW__CORE__LOAD_EXAMPLES=False "$venv/bin/airflow" version >/dev/null
    echo "$digest" > "$stamp"
    echo "Airflow $want: $venv"
}

ensure_venv 2 2.10.5
ensure_venv 3 3.3.2

if ! command -v docker-registry >/dev/null 2>&1; then
    echo "docker-registry: installing (apt)"
    export DEBIAN_FRONTEND=noninteractive
    # the package's service start is refused by policy-rc.d here; the tests start the registry themselves
    apt-get install -y --no-install-recommends docker-registry >/dev/null \
        || { apt-get update -qq && apt-get install -y --no-install-recommends docker-registry >/dev/null; }
fi
echo "docker-registry: $(command -v docker-registry)"
