"""The project ``bigflow start-project`` makes with every plugin installed deploys as generated: it depends on
the plugins of what it does, its CI builds the DAGs, prod is protected, ``rehearsal`` is prod with local
endpoints, and its ``[tool.bigflow]`` table validates against ``bigflow config schema``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

BIGFLOW = Path(sys.executable).parent / "bigflow"
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def bigflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "BIGFLOW_LOAD_PLUGINS"}  # every installed plugin
    done = subprocess.run([BIGFLOW, *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=environ)
    assert done.returncode == 0, f"bigflow {' '.join(args)}: {done.stderr}"
    return done


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    parent = tmp_path_factory.mktemp("scaffold")
    bigflow(parent, "start-project", "shop", "--gcp-project", "acme", "--region", "europe-west1",
            "--dags-bucket", "europe-west1-composer-bucket", "--no-input")
    root = parent / "shop"
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com",
                                               "commit", "-qm", "init"]):
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)
    return root


def errors(value, schema: dict, where: str = "tool.bigflow") -> list[str]:
    """What in ``value`` breaks the JSON schema (the subset ``bigflow config schema`` uses)."""
    found = []
    expected = JSON_TYPES.get(schema.get("type", ""), object)
    if not isinstance(value, expected) or (expected in (int, (int, float)) and isinstance(value, bool)):
        return [f"{where}: {value!r} is not of type {schema['type']}"]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found += errors(item, properties[key], f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(item, schema["additionalProperties"], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unknown key {key!r}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += errors(item, schema["items"], f"{where}[{index}]")
    return found


def test_the_pyproject_validates_against_the_config_schema(shop):
    schema = json.loads(bigflow(shop, "config", "schema").stdout)
    table = tomllib.loads((shop / "pyproject.toml").read_text())["tool"]["bigflow"]
    assert errors(table, schema) == []
    assert errors({**table, "protected": "prod"}, schema) == ["tool.bigflow.protected: 'prod' is not of type array"]


def test_it_depends_on_every_plugin_it_uses_and_protects_prod(shop):
    data = tomllib.loads((shop / "pyproject.toml").read_text())
    names = {re.split(r"[\[<>=]", d)[0] for d in data["project"]["dependencies"]}
    assert names == {"bigflow-core", "bigflow-airflow", "bigflow-beam", "bigflow-bigquery", "bigflow-spark"}
    assert any(r.startswith("bigflow-airflow>=") for r in data["tool"]["bigflow"]["required-plugins"])
    assert data["tool"]["bigflow"]["protected"] == ["prod"]


def test_rehearsal_is_prod_with_local_endpoints(shop):
    environments = tomllib.loads((shop / "pyproject.toml").read_text())["tool"]["bigflow"]["environments"]
    prod, rehearsal, local = environments["prod"], environments["rehearsal"], environments["local"]
    changed = {key: rehearsal[key] for key in rehearsal if rehearsal[key] != prod.get(key)}
    assert changed == {  # the engines the containers use: in the image, or the one emulator on the host they share
        "beam_runner": local["beam_runner"], "spark_master": local["spark_master"],
        "wordcount_output": "/tmp/bigflow-output/beam_wordcount/counts",
        "bigquery_endpoint": "http://127.0.0.1:9050", "bigquery_emulator_port": 9050,
        "bigquery_emulator_dir": ".bigflow/bigquery-rehearsal"}
    # prod's gs:// paths a container cannot reach offline are left out (the sample the package ships is the input)
    assert sorted(prod.keys() - rehearsal.keys()) == ["temp_location", "wordcount_input"]


def test_its_dockerfile_installs_java_for_the_spark_jobs_a_rehearsal_runs_in_the_image(shop):
    lines = (shop / "Dockerfile").read_text().splitlines()
    run = lines.index(next(line for line in lines if line.startswith("RUN ")))
    assert lines[run - 1].startswith("# openjdk-17-jre-headless (bigflow-spark): ")
    assert "apt-get install -y --no-install-recommends openjdk-17-jre-headless" in lines[run]
    assert run < lines.index("COPY app/ ${SITE_PACKAGES}/") and lines[-1] == "USER bigflow"


def test_its_ci_builds_the_dags_as_written(shop):
    ci = (shop / ".github/workflows/ci.yml").read_text()
    test_job = ci.split("\n  deploy:")[0]
    steps = [line.split("- run: ", 1)[1].split("#")[0].strip() for line in test_job.splitlines() if "- run: " in line]
    dags = [step for step in steps if step.startswith("bigflow build dags")]
    assert dags == ["bigflow build dags"], steps
    bigflow(shop, *dags[0].split()[1:])
    listed = json.loads(bigflow(shop, "workflows", "list", "--json").stdout)
    assert sorted(p.stem for p in (shop / "build/dags/local").glob("*.py")) == sorted(
        w["workflow_id"] for w in listed)


@pytest.mark.parametrize("args", [("workflows", "list"), ("workflows", "show", "mixed_example"),
                                  ("run", "--workflow", "nope")])
def test_finding_and_listing_workflows_loads_no_engine(shop, args):
    environ = {k: v for k, v in os.environ.items() if k != "BIGFLOW_LOAD_PLUGINS"}
    for _ in range(2):  # without, then with the index and the listing cached
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bigflow", *args], cwd=shop, env=environ,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
        assert done.returncode == (2 if args[0] == "run" else 0), done.stderr[-2000:]
        assert not imported & {"apache_beam", "pyspark", "google.cloud.bigquery", "airflow"}, args
