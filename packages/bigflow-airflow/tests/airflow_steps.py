"""Run with an Airflow venv's python: several ``airflow`` CLI commands (and file copies) in ONE process.

    python airflow_steps.py STEPS.json OUT.json

STEPS.json is a list of ``{"cli": ["dags", "trigger", ...]}`` or ``{"copy": [SOURCE, TARGET]}``. OUT.json gets,
per step, the captured stdout and the error (if any). Importing Airflow costs seconds on every ``airflow``
command; paying it once keeps the rollout and local-Airflow tests fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import traceback
from pathlib import Path


def main(steps_path: str, out_path: str) -> None:
    from airflow.cli import cli_parser

    parser = cli_parser.get_parser()
    results = []
    with open(steps_path) as file:
        steps = json.load(file)
    for step in steps:
        if "copy" in step:
            shutil.copyfile(*step["copy"])
            target = Path(step["copy"][1])  # and drop its cached bytecode, as a deploy does (local.py)
            for cached in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
                cached.unlink()
            results.append({"step": step, "stdout": "", "error": None})
            continue
        out = io.StringIO()
        error = None
        with contextlib.redirect_stdout(out):
            try:
                args = parser.parse_args(step["cli"])
                args.func(args)
            except SystemExit as exit_:
                error = None if exit_.code in (0, None) else f"SystemExit({exit_.code})"
            except BaseException:  # noqa: BLE001 - reported to the test
                error = traceback.format_exc()
        results.append({"step": step, "stdout": out.getvalue(), "error": error})
    with open(out_path, "w") as file:
        json.dump(results, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
