"""Entry point of the emulator process: install DuckDB's extensions offline, then run ``bqemulator``.

``python -m bigflow_bigquery.emulator_main start ARGS`` (ARGS as for ``bqemulator start``). With
``BIGFLOW_DUCKDB_HOME`` set, DuckDB keeps its extensions under that directory instead of ``$HOME``.
``python -m bigflow_bigquery.emulator_main install`` only installs the extensions (setup scripts).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

#: DuckDB extensions the emulator loads: spatial is required to start, avro only for Avro loads/extracts.
EXTENSIONS = {"spatial": True, "avro": False}
ERROR_MARK = "bigflow-emulator-error: "


class ExtensionMissing(Exception):
    pass


def wheel_file(name: str, version: str) -> Path | None:
    """The extension file shipped by the ``duckdb-extension-<name>`` wheel for this DuckDB version."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
        if candidate.is_file():
            return candidate
    return None


def install_extensions() -> list[str]:
    """Install the missing extensions from their wheels into DuckDB's extension directory; the names installed."""
    import duckdb

    connection = duckdb.connect()
    try:
        installed = {name for (name,) in connection.execute(
            "SELECT extension_name FROM duckdb_extensions() WHERE installed").fetchall()}
        directory = connection.execute("SELECT current_setting('extension_directory')").fetchone()[0]
        done = []
        for name, required in EXTENSIONS.items():
            if name in installed:
                continue
            source = wheel_file(name, duckdb.__version__)
            if source is None:
                if required:
                    raise ExtensionMissing(
                        f"cannot start the BigQuery emulator: the DuckDB extension {name!r} for duckdb "
                        f"{duckdb.__version__} is neither installed (in {directory or '~/.duckdb/extensions'}) "
                        f"nor available offline; fix: pip install 'duckdb-extension-{name}=={duckdb.__version__}' "
                        "(or pip install 'bigflow-bigquery[emulator]')"
                    )
                continue
            connection.execute(f"INSTALL '{source}'")
            done.append(name)
        return done
    finally:
        connection.close()


def watch_parent(pid: int) -> None:
    """Stop (gracefully, like Ctrl-C) when the process that started the emulator is gone."""
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="bigflow-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    home = os.environ.get("BIGFLOW_DUCKDB_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        os.environ["HOME"] = home  # DuckDB's default extension directory is $HOME/.duckdb/extensions
    try:
        installed = install_extensions()
    except ExtensionMissing as error:
        print(ERROR_MARK + str(error), file=sys.stderr, flush=True)
        return 3
    if argv[:1] == ["install"]:
        print(f"DuckDB extensions installed: {', '.join(installed) or 'none needed'}")
        return 0
    parent = os.environ.get("BIGFLOW_EMULATOR_PARENT")
    if parent:
        watch_parent(int(parent))
    from bqemulator.cli import main as bqemulator

    return bqemulator.main(argv, prog_name="bqemulator", standalone_mode=True) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
