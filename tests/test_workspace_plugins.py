"""The four plugins of this repository, installed in the workspace venv, as users see them."""

import json

from support import ROOT, run

BIGFLOW = str(ROOT / ".venv" / "bin" / "bigflow")
PLUGINS = ("bigflow-airflow", "bigflow-beam", "bigflow-bigquery", "bigflow-spark")


def test_version_lists_every_plugin_as_compatible():
    lines = run(BIGFLOW, "--version").stdout.splitlines()
    for name in PLUGINS:
        assert f"{name} 0.1.0 (plugin API >=1,<2: compatible)" in lines


def test_every_plugin_loads_without_warnings():
    result = run(BIGFLOW, "plugins", "check", "--json", env={"BIGFLOW_STRICT_PLUGINS": "1"})
    records = {r["name"]: r for r in json.loads(result.stdout)["plugins"] if not r["builtin"]}
    assert sorted(records) == list(PLUGINS)
    assert {r["status"] for r in records.values()} == {"ok"}
    assert result.stderr == ""


def test_plugins_check_passes():
    assert run(BIGFLOW, "plugins", "check").stdout.strip().endswith("plugin distribution(s) OK")


_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}


def schema_errors(value, schema, where="[tool.bigflow]"):
    """The JSON Schema keywords ``bigflow config schema`` uses (type, properties, additionalProperties, items),
    checked the way a JSON Schema validator does (jsonschema is not a dependency of the workspace)."""
    expected = schema.get("type")
    if expected and (not isinstance(value, _JSON_TYPES[expected]) or
                     (expected in ("integer", "number") and isinstance(value, bool))):
        return [f"{where}: {value!r} is not of type {expected!r}"]
    errors = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key, schema.get("additionalProperties", True))
            if sub is False:
                errors.append(f"{where}: additional property {key!r} is not allowed")
            elif isinstance(sub, dict):
                errors += schema_errors(item, sub, f"{where}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{index}]")
    return errors


def test_the_scaffolds_pyproject_validates_against_config_schema(tmp_path):
    import tomllib

    run(BIGFLOW, "start-project", "shop", "--no-input", cwd=tmp_path)
    schema = json.loads(run(BIGFLOW, "config", "schema", cwd=tmp_path / "shop").stdout)
    table = tomllib.loads((tmp_path / "shop" / "pyproject.toml").read_text())["tool"]["bigflow"]
    assert schema_errors(table, schema) == []
    environments = schema["properties"]["environments"]["additionalProperties"]["properties"]
    assert {"bigquery_endpoint", "beam_runner", "spark_master", "dags_bucket", "gcp_project_id"} <= set(environments)
    broken = {**table, "default-enviroment": "dev", "environments": {"dev": {"dag_pin_image": "yes"}}}
    assert sorted(schema_errors(broken, schema)) == [
        "[tool.bigflow].environments.dev.dag_pin_image: 'yes' is not of type 'boolean'",
        "[tool.bigflow]: additional property 'default-enviroment' is not allowed"]
