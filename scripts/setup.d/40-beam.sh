#!/usr/bin/env bash
# bigflow-beam test setup: nothing to install or start — Beam's local runners run in-process, and Dataflow is
# only ever reached with --dry_run. This checks that the workspace venv's Apache Beam imports with the GCP extra
# (DataflowRunner, the Dataflow API client) and that its version is one bigflow-beam supports.
set -euo pipefail

python - <<'PY'
import sys

try:
    import apache_beam
    from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner  # noqa: F401 - apache-beam[gcp]
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner  # noqa: F401
    from google.cloud import dataflow_v1beta3  # noqa: F401
except ImportError as error:
    sys.exit(f"40-beam.sh: apache-beam[gcp] is not importable ({error}); run scripts/setup to sync .venv/")
major, minor = (int(part) for part in apache_beam.__version__.split(".")[:2])
if (major, minor) < (2, 77):
    sys.exit(f"40-beam.sh: apache-beam {apache_beam.__version__} is too old; bigflow-beam needs >= 2.77")
print(f"40-beam.sh: apache-beam {apache_beam.__version__} with the GCP extra: ok")
PY
