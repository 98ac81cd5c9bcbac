"""The demo: a new user's first minutes, offline, against the installed bigflow.

Creates an example project in ``.demo/`` (replaced on every run; the engines and venvs that
``scripts/setup`` installed are reused), runs each of its workflows with ``bigflow run`` on the embedded
engines, shows what they produced, and builds its artifacts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
BIGFLOW = str(ROOT / ".venv" / "bin" / "bigflow")
WORK = ROOT / ".demo"
PROJECT = WORK / "demo_project"
console = Console()


def bigflow(title: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run one bigflow command as a step: show it, its output, and stop the demo if it fails."""
    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ bigflow {' '.join(args)}")
    started = time.monotonic()
    done = subprocess.run([BIGFLOW, *args], cwd=cwd, text=True, capture_output=True)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        console.print(f"[red]bigflow {' '.join(args)} failed with exit code {done.returncode}")
        sys.exit(done.returncode)
    console.print(f"[green]ok[/] [dim]({time.monotonic() - started:.1f} s)")
    return done


def show_files(title: str, directory: Path, limit: int = 12) -> None:
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    console.print(f"[bold]{title}[/] ({len(files)} file(s) in {directory.relative_to(ROOT)})")
    for path in files[:limit]:
        first = path.read_text(errors="replace").splitlines()[:3] if path.stat().st_size < 100_000 else []
        console.print(f"  {path.relative_to(PROJECT)}: {' | '.join(first)[:100]}")


def main() -> None:
    bigflow("Versions of core and plugins", "--version")
    bigflow("Installed plugins and what they provide", "plugins", "list")

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    bigflow("1. Create an example project (one workflow per installed technology)",
            "start-project", "demo_project", "--no-input", cwd=WORK)
    listed = bigflow("Its workflows", "workflows", "list", cwd=PROJECT)
    workflow_ids = [line.split()[0] for line in listed.stdout.splitlines()[1:] if line.strip()]

    for workflow_id in workflow_ids:
        bigflow(f"2. Run workflow {workflow_id} offline", "run", "--workflow", workflow_id,
                "--runtime", "2026-01-15", "--log-format", "text", cwd=PROJECT)
    output = PROJECT / "build" / "output"
    if output.exists():
        show_files("What the workflows wrote", output)

    bigflow("3. Build the wheel (the project's tests run first)", "build", "package", cwd=PROJECT)
    manifest = PROJECT / "build" / "manifest.json"
    console.rule("[bold]The build manifest")
    console.print(manifest.read_text())

    console.rule("[bold green]Done")
    console.print(
        "What just happened: bigflow created a project with a workflow per installed technology, ran each\n"
        "of them offline on the embedded engines (DuckDB-backed BigQuery emulator, Beam's local runner, local\n"
        "Spark), and built its wheel, recording it in build/manifest.json.\n"
        f"Try next: cd {PROJECT.relative_to(ROOT)} && ../../.venv/bin/bigflow --help, edit a workflow and "
        "'bigflow run --workflow <id>', or 'bigflow plugins new bigflow-acme' to extend bigflow."
    )


if __name__ == "__main__":
    main()
