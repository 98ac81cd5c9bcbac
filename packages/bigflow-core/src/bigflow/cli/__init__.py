"""The ``bigflow`` command line: ``main()`` is the console entry point, ``run_cli(argv)`` the in-process one."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def _debug_requested(argv: Sequence[str]) -> bool:
    return "--debug" in argv or os.environ.get("BIGFLOW_DEBUG", "") not in ("", "0")


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error becomes one line on stderr (a traceback with --debug)."""
    import click

    from bigflow import exit_codes
    from bigflow.cli.app import cli
    from bigflow.errors import BigflowError

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(argv)
    try:
        result = cli.main(argv, prog_name="bigflow", standalone_mode=False)
    except click.exceptions.Abort:
        print("Aborted.", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as error:
        if debug:
            raise
        print(f"Error: {error.format_message()}", file=sys.stderr)
        return error.exit_code
    except BigflowError as error:
        if debug:
            raise
        print(f"Error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            raise
        from bigflow.plugins.manager import one_line

        print(f"Error: {one_line(error)} (run with --debug for the traceback)", file=sys.stderr)
        return exit_codes.FAILED
    return result if isinstance(result, int) else exit_codes.OK


def main() -> None:
    """Console entry point of ``bigflow``."""
    sys.exit(run_cli())
