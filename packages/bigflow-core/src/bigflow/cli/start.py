"""``bigflow start-project``: create a new project that runs at once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

PROMPTS = (
    ("gcp_project", "Google Cloud project id (empty: fill in later)"),
    ("region", "Region, e.g. europe-west1 (empty: later)"),
    ("dags_bucket", "Cloud Composer DAGs bucket (empty: later)"),
    ("docker_repository", "Docker repository for the image (empty: later)"),  # asked only when not derived
)


@click.command("start-project")
@click.argument("name")
@click.option("--gcp-project", metavar="ID", help="Google Cloud project of the dev and prod environments.")
@click.option("--region", metavar="REGION", help="Google Cloud region, e.g. europe-west1.")
@click.option("--dags-bucket", metavar="BUCKET", help="Cloud Composer DAGs bucket.")
@click.option("--docker-repository", metavar="REPO", help="Image repository (default: an Artifact Registry path "
              "from the project and region).")
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create it (default: ./NAME); must be new or empty.")
@click.option("--no-input", is_flag=True, help="Never prompt; leave missing values for later.")
@click.option("--json", "as_json", is_flag=True, help="Print what was created as JSON (never prompts).")
def start_project(name: str, gcp_project: str | None, region: str | None, dags_bucket: str | None,
                  docker_repository: str | None, directory: Path | None, no_input: bool, as_json: bool) -> None:
    """Create project NAME: pyproject with environments local/dev/prod/rehearsal, an example workflow per
    installed technology, tests, a Dockerfile, a CI file and a README. Prompts (on a terminal) for missing
    values, except the Docker repository when it is derived from the project and the region."""
    from bigflow.scaffold import check_target
    from bigflow.starter import Options, check_name
    from bigflow.starter import start_project as create

    options = Options(name, gcp_project or None, region or None, dags_bucket or None, docker_repository or None)
    target = directory or Path(name)
    check_name(name)
    check_target(target)  # before any prompt: a bad target wastes no answers
    if not no_input and not as_json and sys.stdin.isatty():
        for attribute, text in PROMPTS:
            derived = attribute == "docker_repository" and options.gcp_project and options.region
            if getattr(options, attribute) is None and not derived:
                answer = click.prompt(text, default="", show_default=False).strip()
                setattr(options, attribute, answer or None)
    path, contributions = create(options, target)
    if as_json:
        from bigflow.output import print_json

        print_json({"name": name, "path": str(path), "examples": [
            {"name": "hello", "plugin": "bigflow-core"}, *({"name": c.name, "plugin": c.plugin} for c in contributions)]})
        return
    examples = ", ".join(["hello (core)", *(f"{c.name} ({c.plugin})" for c in contributions)])
    click.echo(f"Created project {name!r} in {path}")
    click.echo(f"Example workflows: {examples}")
    click.echo("Next:")
    for step in (f"cd {target}", "git init && git add -A && git commit -m 'Initial commit'",
                 "pip install -e '.[dev]'", "pytest", "bigflow run --workflow hello"):
        click.echo(f"  {step}")
