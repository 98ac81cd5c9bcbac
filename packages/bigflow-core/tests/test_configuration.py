"""Config / DeploymentConfig: environments, environment variables, interpolation and secrets."""

import logging

import pytest

from bigflow.configuration import (
    Config,
    DeploymentConfig,
    ResolvedValue,
    SecretsFilter,
    SecretStr,
    current_env,
    is_secret_key,
    mask,
    secret,
)
from bigflow.errors import BigflowError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for variable in ("bf_env", "bf_project", "bf_dataset", "bf_db_password", "bf_other", "bamboo_bf_env"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)


def dev_prod(**dev_extra):
    return Config("dev", {"project": "dev-project", "dataset": "data", **dev_extra}).add_configuration(
        "prod", {"project": "prod-project"})


# -- environments ---------------------------------------------------------------------------------------


def test_default_env_is_the_master_and_env_is_added():
    assert dev_prod().resolve() == {"project": "dev-project", "dataset": "data", "env": "dev"}


def test_other_env_inherits_master_properties():
    assert dev_prod().resolve("prod") == {"project": "prod-project", "dataset": "data", "env": "prod"}


def test_non_master_config_is_not_inherited():
    config = Config("base", {"a": 1}, is_master=False).add_configuration("other", {"b": 2})
    assert config.resolve("other") == {"b": 2, "env": "other"}


def test_add_configuration_can_set_the_default():
    config = Config("dev", {"a": 1}, is_default=False).add_configuration("prod", {"a": 2}, is_default=True)
    assert config.resolve()["a"] == 2
    assert config.default_env_name == "prod" and list(config.configs) == ["dev", "prod"]


def test_bf_env_selects_the_environment(monkeypatch):
    monkeypatch.setenv("bf_env", "prod")
    assert dev_prod().resolve()["project"] == "prod-project"
    assert dev_prod().resolve("dev")["project"] == "dev-project"  # explicit wins


def test_unknown_env_lists_known_ones_and_suggests():
    with pytest.raises(BigflowError, match=r"^unknown environment 'prd' \(known: dev, prod\); did you mean 'prod'\?$"):
        dev_prod().resolve("prd")


def test_unknown_env_from_bf_env_names_the_variable(monkeypatch):
    monkeypatch.setenv("bf_env", "staging")
    with pytest.raises(BigflowError, match=r"^unknown environment 'staging' \(from bf_env\) \(known: dev, prod\)$"):
        dev_prod().resolve()


def test_no_env_and_no_default():
    config = Config("dev", {}, is_default=False)
    with pytest.raises(BigflowError, match=r"^no environment given and the config has no default one \(known: dev\); "
                                           r"pass one or set bf_env$"):
        config.resolve()


def test_only_one_default_env():
    with pytest.raises(BigflowError, match=r"^environment 'prod' cannot be the default: 'dev' already is"):
        Config("dev", {}).add_configuration("prod", {}, is_default=True)


def test_env_property_must_be_the_env_name():
    assert Config("dev", {"env": "dev"}).resolve() == {"env": "dev"}
    with pytest.raises(BigflowError, match=r"^environment 'dev': property 'env' is the environment name, got 'prod'"):
        Config("dev", {"env": "prod"})


def test_env_defined_twice():
    with pytest.raises(BigflowError, match=r"^environment 'dev' is defined twice in the config$"):
        Config("dev", {}).add_configuration("dev", {})


def test_current_env(monkeypatch):
    assert current_env() is None
    monkeypatch.setenv("bf_env", "prod")
    monkeypatch.setenv("bamboo_bf_env", "test")
    assert current_env() == "prod"
    assert current_env("bamboo_bf_") == "test"


# -- environment variables ------------------------------------------------------------------------------


def test_env_variable_overrides_value_from_code(monkeypatch):
    monkeypatch.setenv("bf_project", "from-variable")
    assert dev_prod().resolve()["project"] == "from-variable"
    assert dev_prod().resolve("prod")["project"] == "from-variable"


def test_upper_case_variables_count_as_airflow_kubernetes_secrets_set_them(monkeypatch):
    config = Config("dev", {"db_password": secret(), "project": "p"})
    monkeypatch.setenv("BF_DB_PASSWORD", "from-pod-secret")
    assert config.resolve()["db_password"] == "from-pod-secret"
    assert [r.source for r in config.describe("dev") if r.key == "db_password"] == ["env:BF_DB_PASSWORD"]
    monkeypatch.setenv("bf_db_password", "exact-name-wins")
    assert config.resolve()["db_password"] == "exact-name-wins"


def test_undeclared_bf_variables_do_not_leak(monkeypatch):
    monkeypatch.setenv("bf_other", "leak")
    resolved = dev_prod().resolve()
    assert "other" not in resolved
    with pytest.raises(BigflowError, match=r"^no property 'other' in environment 'dev'$"):
        dev_prod().resolve_property("other")


def test_bf_env_does_not_override_the_env_key(monkeypatch):
    monkeypatch.setenv("bf_env", "prod")
    assert dev_prod().resolve("dev")["env"] == "dev"


def test_none_means_required_from_the_environment(monkeypatch):
    config = Config("dev", {"db_password": None, "host": "h"}).add_configuration("prod", {})
    with pytest.raises(BigflowError, match=r"^configuration value 'db_password' of environment 'prod' is required: "
                                           r"set bf_db_password$"):
        config.resolve("prod")
    monkeypatch.setenv("bf_db_password", "s3cret-value")
    assert config.resolve_property("db_password", "prod") == "s3cret-value"


def test_resolve_property_suggests_the_nearest_key():
    assert dev_prod().resolve_property("project", "prod") == "prod-project"
    with pytest.raises(BigflowError, match=r"^no property 'projet' in environment 'dev'; did you mean 'project'\?$"):
        dev_prod().resolve_property("projet")


def test_custom_prefix_reads_env_name_and_values(monkeypatch):
    config = DeploymentConfig("dev", {"project": "dev-project"}, True, True, "bamboo_bf_").add_configuration(
        "prod", {"project": "prod-project"})
    monkeypatch.setenv("bamboo_bf_env", "prod")
    monkeypatch.setenv("bf_env", "dev")
    monkeypatch.setenv("bf_project", "ignored: wrong prefix")
    assert config.resolve()["project"] == "prod-project"
    monkeypatch.setenv("bamboo_bf_project", "from-variable")
    assert config.resolve() == {"project": "from-variable", "env": "prod"}
    assert config.describe()[1].source == "env:bamboo_bf_project"


# -- interpolation --------------------------------------------------------------------------------------


def test_interpolation_is_recursive_and_order_independent():
    config = Config("dev", {
        "table": "{dataset}.events",
        "dataset": "{project}:{env}_data",
        "project": "p-{env}",
        "port": 5432,
        "url": "db:{port}",
    })
    assert config.resolve() == {"table": "p-dev:dev_data.events", "dataset": "p-dev:dev_data", "project": "p-dev",
                                "port": 5432, "url": "db:5432", "env": "dev"}


def test_interpolation_escapes_and_other_braces():
    config = Config("dev", {"template": "{{dt}} in {env}", "json": '{"a": {"b": 1}}', "lone": "a } b {",
                            "escaped": "{{dt}}", "json_template": '{{"env": "{env}"}}'})
    resolved = config.resolve()
    assert resolved["template"] == "{dt} in dev"
    assert resolved["escaped"] == "{dt}"
    assert resolved["json_template"] == '{"env": "dev"}'
    assert resolved["json"] == '{"a": {"b": 1}}'  # not a template: used as is
    assert resolved["lone"] == "a } b {"


def test_values_from_variables_are_not_interpolated(monkeypatch):
    monkeypatch.setenv("bf_project", "{dataset}")
    config = Config("dev", {"project": "x", "dataset": "d", "ref": "{project}"})
    assert config.resolve()["project"] == "{dataset}"
    assert config.resolve()["ref"] == "{dataset}"


def test_overridden_value_is_used_by_references(monkeypatch):
    monkeypatch.setenv("bf_project", "override")
    assert Config("dev", {"project": "p", "table": "{project}.t"}).resolve()["table"] == "override.t"


def test_unknown_reference():
    config = Config("dev", {"table": "{projet}.t", "project": "p"})
    with pytest.raises(BigflowError, match=r"^configuration value 'table' of environment 'dev' references unknown key "
                                           r"\{projet\}; did you mean \{project\}\?$"):
        config.resolve()
    with pytest.raises(BigflowError, match=r"unknown key \{zzz\}; write \{\{ \}\} for literal braces$"):
        Config("dev", {"a": "{zzz}"}).resolve()


@pytest.mark.parametrize(("properties", "cycle"), [
    ({"a": "{b}", "b": "{c}", "c": "{a}"}, "a -> b -> c -> a"),
    ({"a": "x{a}"}, "a -> a"),
    ({"a": "{x}{b}", "x": "1", "b": "{a}"}, "a -> b -> a"),
])
def test_reference_cycle(properties, cycle):
    with pytest.raises(BigflowError, match=rf"^reference cycle in configuration of environment 'dev': {cycle}$"):
        Config("dev", properties).resolve()


# -- secrets --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "expected"), [
    ("db_password", True), ("api_token", True), ("client_secret", True), ("signing_key", True),
    ("PASSWORD", True), ("Api_Key", True), ("password", True),
    ("project", False), ("keyring", False), ("token_url", False), ("passwords_table", False),
])
def test_secret_key_names(key, expected):
    assert is_secret_key(key) is expected


def test_secret_str_is_usable_but_masked_in_repr():
    value = SecretStr("hunter2-pass")
    assert value == "hunter2-pass" and f"{value}" == "hunter2-pass" and str(value) == "hunter2-pass"
    assert value.get_secret_value() == "hunter2-pass" and type(value.get_secret_value()) is str
    assert "postgres://u:" + value == "postgres://u:hunter2-pass"
    assert repr(value) == "SecretStr('***')" and "hunter2" not in repr({"p": value})


def secret_config():
    return Config("dev", {
        "db_password": "pw-in-code",
        "service": "svc",
        "dsn": "postgres://app:{db_password}@host/db",
        "plain": "visible",
        "api": secret("api-default"),
        "port": 5432,
    }, secrets=["service"])


def test_resolved_secrets_are_secret_str():
    resolved = secret_config().resolve()
    assert isinstance(resolved["db_password"], SecretStr)
    assert isinstance(resolved["service"], SecretStr)
    assert isinstance(resolved["api"], SecretStr) and resolved["api"] == "api-default"
    assert isinstance(resolved["dsn"], SecretStr)  # it interpolates a secret
    assert resolved["dsn"] == "postgres://app:pw-in-code@host/db"
    assert type(resolved["plain"]) is str


def test_pretty_print_masks_secrets():
    text = secret_config().pretty_print()
    assert text.startswith("dev config:\n{   'api': '***',\n")
    assert "'plain': 'visible'" in text and "'port': 5432" in text
    assert "pw-in-code" not in text and "svc" not in text and "api-default" not in text


def test_str_masks_secrets_and_shows_unresolvable_envs():
    config = secret_config().add_configuration("prod", {"db_password": None})
    text = str(config)
    assert "dev config:" in text and "'plain': 'visible'" in text and "pw-in-code" not in text
    assert "prod config: <configuration value 'db_password' of environment 'prod' is required: " \
           "set bf_db_password>" in text


def test_describe_masks_secrets_and_names_sources(monkeypatch):
    monkeypatch.setenv("bf_db_password", "pw-from-env")
    rows = {row.key: row for row in secret_config().describe()}
    assert rows["db_password"] == ResolvedValue("db_password", "***", "env:bf_db_password", True)
    assert rows["dsn"] == ResolvedValue("dsn", "***", "interpolated", True)
    assert rows["plain"] == ResolvedValue("plain", "visible", "code", False)
    assert rows["port"] == ResolvedValue("port", 5432, "code", False)
    assert rows["service"].value == "***" and rows["env"].value == "dev"
    assert list(rows) == sorted(rows)
    assert secret_config().resolve()["dsn"] == "postgres://app:pw-from-env@host/db"


def test_secret_marker_is_required_from_the_environment(monkeypatch):
    config = Config("dev", {"credentials": secret()})
    with pytest.raises(BigflowError, match=r"^configuration value 'credentials' of environment 'dev' is required: "
                                           r"set bf_credentials$"):
        config.resolve()
    monkeypatch.setenv("bf_credentials", "from-env")
    resolved = config.resolve()
    assert isinstance(resolved["credentials"], SecretStr) and resolved["credentials"] == "from-env"
    assert config.describe()[0].value == "***"


def test_secrets_are_inherited_and_must_be_declared():
    config = Config("dev", {"service": "a"}, secrets=["service"]).add_configuration("prod", {"service": "b"})
    assert isinstance(config.resolve("prod")["service"], SecretStr)
    with pytest.raises(BigflowError, match=r"^environment 'dev': secret 'servce' is not one of its properties; "
                                           r"did you mean 'service'\?$"):
        Config("dev", {"service": "a"}, secrets=["servce"])


def test_mask():
    assert mask(SecretStr("abcd")) == "***"
    assert mask({"user": "u", "db_password": "plain-str", "nested": {"api_token": 1, "x": [SecretStr("zz")]}}) == \
        {"user": "u", "db_password": "***", "nested": {"api_token": "***", "x": ["***"]}}
    assert mask("text") == "text"


def test_secrets_filter_masks_secret_values_in_log_records():
    value = SecretStr("very-secret-value")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting with %s to %s", (value, "host"), None)
    assert SecretsFilter().filter(record) is True
    assert record.getMessage() == "connecting with *** to host"
    fstring = logging.LogRecord("x", logging.INFO, __file__, 1, f"dsn=u:{value}@h", None, None)
    SecretsFilter().filter(fstring)
    assert fstring.getMessage() == "dsn=u:***@h"
    SecretStr("  padded-secret\nsecond-line\n")
    stripped = logging.LogRecord("x", logging.INFO, __file__, 1, "refused: padded-secret, then second-line", None, None)
    SecretsFilter().filter(stripped)
    assert stripped.getMessage() == "refused: ***, then ***"
    untouched = logging.LogRecord("x", logging.INFO, __file__, 1, "nothing %d", (1,), None)
    SecretsFilter().filter(untouched)
    assert (untouched.msg, untouched.args) == ("nothing %d", (1,))
