"""The resolved ``Environment``: sources, typed getters, secrets, declared settings and their checks."""

import json
import textwrap

import pytest

from bigflow import environment, plugins
from bigflow.environment import Environment, resolve
from bigflow.errors import BigflowError, ConfigError
from bigflow.plugins.manager import PluginHost
from bigflow.project import Project
from bigflow.settings import Setting


def project(tmp_path, settings=None, **envs) -> Project:
    return Project(tmp_path, {"package": "proj", "environments": envs, **(settings or {})}, "proj")


class Declaring:
    """A plugin that declares a few settings."""

    def __init__(self, *settings):
        self.settings = settings

    @plugins.hookimpl
    def register_settings(self, register):
        for setting in self.settings:
            register(setting.name, setting)


@pytest.fixture
def declared(monkeypatch):
    """Make a host whose one plugin ('bigflow-spark' by name) declares the given settings."""
    previous = plugins.host()

    def install(*settings):
        host = PluginHost([])
        host.add_plugin(Declaring(*settings), name="bigflow-spark")
        plugins.set_host(host)
        return host

    yield install
    plugins.set_host(previous)


def test_values_keep_their_source(tmp_path, monkeypatch):
    monkeypatch.setenv("bf_bucket", "from-env")
    env = resolve(project(tmp_path, local={"bucket": "b", "other": 1}))
    assert isinstance(env, Environment) and env.name == "local" and env.project.root == tmp_path
    assert env["bucket"] == "from-env" and env.source("bucket") == "env:bf_bucket"
    assert env.get("other") == 1 and env.source("other") == "pyproject.toml"
    assert env["env"] == "local" and env.source("env") == "environment name"


def test_typed_getters_convert_strings_and_name_key_and_environment(tmp_path):
    env = Environment("dev", None, {"n": "12", "flag": "yes", "tags": "a, b", "labels": "k=v,x=y", "bad": "many",
                                    "ratio": "0.5"}, {"bad": "env:bf_bad"})
    assert env.int("n") == 12 and env.bool("flag") is True and env.float("ratio") == 0.5
    assert env.list("tags") == ["a", "b"] and env.table("labels") == {"k": "v", "x": "y"}
    assert env.str("missing", "d") == "d" and env.list("missing") == []
    with pytest.raises(ConfigError) as error:
        env.int("bad")
    assert str(error.value) == ("configuration key 'bad' of environment 'dev' must be a whole number, got 'many' "
                                "(from env:bf_bad)")
    assert isinstance(error.value, ValueError) and isinstance(error.value, BigflowError)
    with pytest.raises(ConfigError, match=r"^configuration key 'gone' of environment 'dev' is not set; to deploy — add it"):
        env.require("gone", "to deploy")


def test_mask_hides_every_secret_value(tmp_path, monkeypatch, declared):
    declared(Setting("vault", str, secret=True))
    monkeypatch.setenv("bf_db_password", "hunter22")
    monkeypatch.setenv("bf_vault", "v-secret")
    env = resolve(project(tmp_path, local={"db_password": None, "api_token": "tok-123", "user": "ann"}))
    assert env.secret_keys >= {"db_password", "api_token", "vault"}
    text = env.mask("login ann/hunter22 with tok-123 and v-secret")
    assert text == "login ann/*** with *** and ***"
    rows = {row["key"]: row for row in env.describe()}
    assert rows["vault"]["value"] == "***" and rows["vault"]["plugin"] == "bigflow-spark"
    assert "hunter22" not in repr(env)


def test_mask_hides_a_secret_without_its_surrounding_whitespace_and_each_line_of_it(tmp_path):
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END KEY-----\n"
    env = resolve(project(tmp_path, local={"api_token": "tok-123\n", "signing_key": pem, "user": "ann"}))
    assert env.mask("refused tok-123 (as ann)") == "refused *** (as ann)"  # a multi-line TOML string's newline
    assert env.mask(f"bad key: {pem.strip()}") == "bad key: ***"
    assert env.mask("line 2 of the key: MIIEvQIBADANBg") == "line 2 of the key: ***"


def test_project_table_typos_and_types_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'default-enviroment' in \\[tool.bigflow\\] of pyproject.toml; "
                                          "did you mean 'default-environment'\\?"):
        resolve(project(tmp_path, {"default-enviroment": "local"}, local={}))
    with pytest.raises(ConfigError, match=r"^\[tool.bigflow\] default-environment must be a string, got 7$"):
        resolve(project(tmp_path, {"default-environment": 7}, local={}))
    with pytest.raises(ConfigError, match=r"^\[tool.bigflow\] config must be a string, got 7$"):
        resolve(project(tmp_path, {"config": 7}, local={}))


def test_declared_settings_catch_near_misses_types_and_missing_required(tmp_path, declared):
    declared(Setting("spark_master", str, default="local[*]", required=("prod",), description="where Spark runs"),
             Setting("spark_workers", int))
    with pytest.raises(ConfigError, match="unknown configuration key 'spark_mastr' in environment 'local' "
                                          r"\(from pyproject.toml\); did you mean 'spark_master'\?"):
        resolve(project(tmp_path, local={"spark_mastr": "x"}))
    with pytest.raises(ConfigError, match="configuration key 'spark_workers' of environment 'local' must be a whole number"):
        resolve(project(tmp_path, local={"spark_workers": "many"}))
    env = resolve(project(tmp_path, local={"my_own_key": 1}))  # other undeclared keys are the user's
    assert env["my_own_key"] == 1 and env.str("spark_master") == "local[*]" and env.source("spark_master") == "default"


def test_a_missing_required_setting_names_the_plugin(tmp_path, declared):
    declared(Setting("spark_cluster", str, required=("prod",), description="the Dataproc cluster"))
    assert resolve(project(tmp_path, prod={"spark_cluster": "c"}), "prod")["spark_cluster"] == "c"
    with pytest.raises(ConfigError, match="^configuration key 'spark_cluster' is required in environment 'prod' by "
                                          r"bigflow-spark \(the Dataproc cluster\)"):
        resolve(project(tmp_path, prod={}), "prod")


def test_get_resolves_once_per_name_and_bf_variables(tmp_path, monkeypatch, declared):
    declared()
    loads = []
    real = environment._code_configs
    monkeypatch.setattr(environment, "_code_configs", lambda p: loads.append(p) or real(p))
    proj = project(tmp_path, local={"a": 1})
    assert environment.get(proj) is environment.get(proj, None)
    assert len(loads) == 1
    monkeypatch.setenv("bf_a", "2")
    assert environment.get(proj)["a"] == "2" and len(loads) == 2


def test_schema_describes_the_whole_table(declared):
    declared(Setting("spark_master", str, description="where Spark runs"))
    schema = environment.settings_registry().json_schema()
    assert schema["additionalProperties"] is False and "default-environment" in schema["properties"]
    tables = schema["properties"]["environments"]["additionalProperties"]
    assert tables["properties"]["spark_master"] == {"type": "string", "description": "where Spark runs"}
    json.dumps(schema)


def test_config_show_lists_type_source_and_plugin(tmp_path, bigflow_cli, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "proj"
        [tool.bigflow]
        package = "proj"
        [tool.bigflow.environments.local]
        api_token = "tok-secret-1"
        region = "europe-west1"
        """))
    monkeypatch.chdir(tmp_path)
    result = bigflow_cli("config", "show", "--json")
    assert result.exit_code == 0, result.stdout
    rows = {row["key"]: row for row in json.loads(result.stdout)["values"]}
    assert rows["region"] == {"key": "region", "value": "europe-west1", "type": "str", "source": "pyproject.toml",
                              "plugin": "bigflow-core", "secret": False}
    assert rows["api_token"]["value"] == "***" and "tok-secret-1" not in result.stdout


def test_jobs_get_the_environment_and_the_1x_config_mapping(tmp_path):
    from bigflow.executor import run_workflow
    from bigflow.jobs import PythonJob
    from bigflow.workflow import Workflow

    env = resolve(project(tmp_path, local={"workers": "3"}))
    seen = []
    workflow = Workflow("wf", [PythonJob("j", lambda context: seen.append(
        (context.environment is env, context.environment.int("workers"), dict(context.config))))])
    assert run_workflow(workflow, runtime="2026-01-05", env=env.name, config=env).ok
    assert seen == [(True, 3, {"workers": "3", "env": "local"})]
