"""The demo: what a new user sees in the first minutes, run against the installed bigflow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
BIGFLOW = ROOT / ".venv" / "bin" / "bigflow"
console = Console()


def step(title: str, *args: str) -> None:
    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ bigflow {' '.join(args)}")
    done = subprocess.run([str(BIGFLOW), *args])
    if done.returncode != 0:
        console.print(f"[red]bigflow {' '.join(args)} failed with exit code {done.returncode}")
        sys.exit(done.returncode)


def main() -> None:
    step("Versions of core and plugins", "--version")
    step("Installed plugins and what they provide", "plugins", "list")
    console.rule("[bold green]Done")
    console.print(
        "What just happened: bigflow-core and its four plugins were installed into .venv/ and listed.\n"
        "Try next: [bold].venv/bin/bigflow --help[/], [bold].venv/bin/bigflow plugins new bigflow-acme[/]."
    )


if __name__ == "__main__":
    main()
