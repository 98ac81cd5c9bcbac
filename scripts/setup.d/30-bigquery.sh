#!/usr/bin/env bash
# The BigQuery emulator (bqemulator) for bigflow-bigquery's tests, offline (local-engines.md §3.1):
#   - installs DuckDB's spatial and avro extensions from the duckdb-extension-* wheels already in .venv into
#     $BIGFLOW_DUCKDB_HOME/.duckdb/extensions (default: .cache/duckdb in the repository), where the plugin's
#     emulator and the tests look for them; nothing is downloaded;
#   - checks that an emulator starts and answers on 127.0.0.1 (a free port), then stops it.
# Idempotent: a second run finds the extensions installed and only repeats the start check (~2 s).
set -euo pipefail
cd "$(dirname "$0")/../.."

export BIGFLOW_DUCKDB_HOME="${BIGFLOW_DUCKDB_HOME:-$PWD/.cache/duckdb}"
python=.venv/bin/python
"$python" -m bigflow_bigquery.emulator_main install
"$python" - <<'PY'
import time

from bigflow_bigquery import emulator

started = time.monotonic()
running = emulator.start()
try:
    print(f"bqemulator answered at {running.url} after {time.monotonic() - started:.1f} s")
finally:
    emulator.stop(running)
PY
