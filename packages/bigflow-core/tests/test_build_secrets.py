"""Secret values and what the project builds: pyproject.toml's secrets are left out of the copy in the image
and the sdist in every TOML form, and literal secret values in code configs (which go into the image as
written) are reported by ``bigflow build image``. The image itself is checked in test_image.py, the sdist in
test_build_artifacts.py."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from bigflow.builders.build_secrets import checked, pyproject_without_secrets, scan_configs
from bigflow.errors import ConfigError

SECRET = "s3cr3t-value"
DEV = "[tool.bigflow.environments.dev]\n"
HEAD = f'[project]\nname = "shop"  # the name\n\n{DEV}region = "eu"  # where\n'

#: name -> pyproject.toml holding SECRET (at least once) in one TOML form
FORMS = {
    "plain key": f'{HEAD}api_token = "{SECRET}"\nafter = 1\n',
    "quoted key": f'{HEAD}"api_token" = "{SECRET}"\n\'a=b\' = "{{x}}"\n',
    "literal string": f"{HEAD}db_password = '{SECRET}'  # a comment\n",
    "multi-line basic string": f'{HEAD}api_token = """\n{SECRET}\nx = 1\n"""\nafter = 1\n',
    "multi-line literal string": f"{HEAD}db_password = '''\n[{SECRET}]\n# not a comment\n'''\nafter = 1\n",
    "inline table": f'{HEAD}creds = {{ user = "etl", password = "{SECRET}" }}  # c\n',
    "dotted key": f'{HEAD}db.password = "{SECRET}"\ndb.host = "h"\n',
    "sub-table": f'{HEAD}[tool.bigflow.environments.dev.db]\nhost = "h"\npassword = "{SECRET}"\n[tool.x]\nz = 1\n',
    "table named like a secret": f'{HEAD}[tool.bigflow.environments.dev.signing_key]\nid = "k1"\npem = "{SECRET}"\n'
                                 '[tool.x]\nz = 1\n',
    "array of tables": f'{HEAD}[[tool.bigflow.environments.dev.dbs]]\nname = "a"\npassword = "{SECRET}"\n'
                       f'[[tool.bigflow.environments.dev.dbs]]\nname = "b"\n[tool.x]\nz = 1\n',
    "array of inline tables": f'{HEAD}dbs = [\n  {{ name = "a", password = "{SECRET}" }},  # c\n  {{ name = "b" }},\n]\n'
                              'after = 1\n',
    "dotted key from the root": f'tool.bigflow.environments.dev.api_token = "{SECRET}"\n'
                                'tool.bigflow.environments.dev.region = "eu"\n',
    "environments as an inline table": f'[tool.bigflow]\nenvironments = {{ dev = {{ api_token = "{SECRET}", '
                                       'region = "eu" }, prod = { region = "us" } }\n',
    "dotted keys of the environments table": f'[tool.bigflow.environments]\ndev.api_token = "{SECRET}"\n'
                                             'dev.since = 1979-05-27T07:32:00Z\n',
    "a setting declared secret": f'{HEAD}dsn = "{SECRET}"\n',
    "CRLF line ends": f'{HEAD}api_token = "{SECRET}"\nz = 1\n'.replace("\n", "\r\n"),
    "every value type beside a secret": f'{HEAD}mixed = {{ password = "{SECRET}", s = "a\\u007f\\u0001\\"é", '
                                        'i = -3, f = inf, n = nan, b = true, d = 1979-05-27, t = 07:32:00.5, '
                                        'dt = 1979-05-27T00:32:00.999-07:00, l = [[1, 2], ["a"]], e = {} }\n',
    "a comment in a multi-line array": f'{HEAD}api_token = "{SECRET}"\nargs = [\n  "--a",  # was {SECRET}\n'
                                       '  "--b",\n]\n',
    "a comment in a multi-line inline table": f'{HEAD}api_token = "{SECRET}"\nopts = {{ flags = [\n  1,  # {SECRET}\n'
                                              ' ] }\n',
}


def leaves(value: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Every scalar of a parsed document by its path (nan as a string: nan != nan)."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in leaves(item, (*path, key)).items()}
    if isinstance(value, list):
        return {k: v for index, item in enumerate(value) for k, v in leaves(item, (*path, index)).items()}
    return {path: "nan" if value != value else value}


def is_secret(path: tuple[Any, ...]) -> bool:
    return any(key in ("api_token", "db_password", "password", "signing_key", "dsn") for key in path)


@pytest.mark.parametrize("form", FORMS)
def test_the_images_pyproject_has_no_secret_and_every_other_value(form):
    text = FORMS[form]
    result = pyproject_without_secrets(text, {"dsn"})
    before, after = leaves(tomllib.loads(text)), leaves(tomllib.loads(result.text))
    assert any(is_secret(path) for path in before)  # the form really holds a secret
    assert SECRET not in result.text
    assert after == {path: value for path, value in before.items() if not is_secret(path)}
    assert result.removed and all(is_secret(path) for path in result.removed)
    assert "secret, left out of the build (set bf_" in result.text


def test_lines_without_a_secret_are_kept_as_written():
    result = pyproject_without_secrets(FORMS["inline table"] + "# last words\n[tool.x]\nz = 1  # why\n", set())
    lines = result.text.splitlines()
    assert lines[:4] == ['[project]', 'name = "shop"  # the name', '', DEV.strip()]
    assert lines[4:] == ['region = "eu"  # where',
                         'creds = {"user" = "etl"}  # dev.creds.password: secret, left out of the build '
                         '(set bf_creds where it runs)', '# last words', '[tool.x]', 'z = 1  # why']


def test_secrets_outside_environment_tables_and_files_without_secrets_are_left_as_they_are():
    text = f'{HEAD}name = "x"\n[tool.other]\napi_token = "{SECRET}"\n'
    assert pyproject_without_secrets(text, set()).text == text
    assert pyproject_without_secrets(text, set()).removed == []


def test_secret_values_in_comments_are_masked_and_quoted_hashes_are_no_comments():
    text = (f'# the token was {SECRET}\n{HEAD}anchor = "page#{SECRET[:3]}"  # was {SECRET}, then bf-value-1\n'
            f'api_token = """\n  {SECRET}\n"""\n[tool.x]  # old bf-value-1\n')
    result = pyproject_without_secrets(text, set(), mask=lambda comment: comment.replace("bf-value-1", "***"))
    assert SECRET not in result.text and "bf-value-1" not in result.text
    assert result.text.startswith("# the token was ***\n")
    assert f'anchor = "page#{SECRET[:3]}"  # was ***, then ***\n' in result.text
    assert result.text.endswith("[tool.x]  # old ***\n")
    quoted = f"""{HEAD}note = '''it's #bf-value-1'''  # bf-value-1\nn = \"\"\"a"#bf-value-1\"\"\"\n"""
    assert pyproject_without_secrets(quoted, set(), mask=lambda c: c.replace("bf-value-1", "***")).text == \
        quoted.replace("  # bf-value-1", "  # ***")  # the strings hold it (not secret themselves): left as written
    no_secret = f"{HEAD}# bf-value-1 was here\n"
    assert pyproject_without_secrets(no_secret, set(), mask=lambda c: c.replace("bf-value-1", "***")).text == \
        no_secret.replace("bf-value-1", "***")


def hide(comment: str) -> str:
    """A build environment's mask that hides bf-value-1."""
    return comment.replace("bf-value-1", "***")


def test_comments_inside_multi_line_arrays_and_inline_tables_are_masked_and_their_strings_kept():
    array = ('[tool.bigflow]\napi_token = "bf-value-1"   # declared secret\nextra_args = [\n'
             '  "--a",   # old token was bf-value-1\n  "--b",\n]\n')
    assert pyproject_without_secrets(array, set(), mask=hide).text == array.replace("was bf-value-1", "was ***")
    lines = [DEV.strip(), f'args = [  # {SECRET}',
             f'''  "--a#{SECRET}", 'b#bf-value-1',  # it's "{SECRET}"''',
             r'  "q\"#bf-value-1",  # "bf-value-1',
             '  """x#bf-value-1""""  , # bf-value-1 after a string ending in a quote',
             "  '''", "# bf-value-1 in a multi-line literal string", "''',",
             '  """', '  # bf-value-1 in a multi-line basic string \\', '  "#bf-value-1" """,  # bf-value-1',
             '  { a = [', f'    1,  # bf-value-1 {SECRET}', '  ] },',
             ']  # bf-value-1', f'api_token = "{SECRET}"']
    text = "\n".join(lines) + "\n"
    result = pyproject_without_secrets(text, set(), mask=hide)
    assert result.text.splitlines() == [
        lines[0], "args = [  # ***", f'''  "--a#{SECRET}", 'b#bf-value-1',  # it's "***"''',
        r'  "q\"#bf-value-1",  # "***',
        '  """x#bf-value-1""""  , # *** after a string ending in a quote',
        *lines[5:10], '  "#bf-value-1" """,  # ***',  # the strings between: as written
        lines[11], "    1,  # *** ***", lines[13], "]  # ***",
        "# dev.api_token: secret, left out of the build (set bf_api_token where it runs)"]
    assert result.text.count(SECRET) == 1  # in the string "--a#...": a value, not a comment
    args = tomllib.loads(result.text)["tool"]["bigflow"]["environments"]["dev"]["args"]
    assert args == tomllib.loads(text)["tool"]["bigflow"]["environments"]["dev"]["args"]


def test_a_rewrite_that_keeps_a_secret_or_changes_a_value_is_refused_naming_file_key_and_fix():
    text = FORMS["sub-table"]
    original = tomllib.loads(text)
    with pytest.raises(ConfigError) as error:
        checked(original, text, set(), "pyproject.toml")  # the secret still there
    assert str(error.value) == (
        "pyproject.toml: cannot leave secret 'db.password' of environment 'dev' out of the image in the form it "
        "is written; remove its value from pyproject.toml and set bf_db in the container instead")
    with pytest.raises(ConfigError):
        checked(original, text.replace(f'password = "{SECRET}"', "").replace('"h"', '"other"'), set(), "p.toml")
    with pytest.raises(ConfigError):
        checked(original, "not [ toml", set(), "p.toml")
    with pytest.raises(ConfigError, match=r"^p.toml: cannot mask the secret values in its comments without changing "
                                          r"a value; remove them from p.toml$"):
        checked({"a": "x"}, 'a = "y"', set(), "p.toml")
    assert checked(original, text.replace(f'password = "{SECRET}"', ""), set(), "p.toml")


def test_invalid_toml_is_a_one_line_error_naming_the_file():
    with pytest.raises(ConfigError, match=r"^pyproject.toml is not valid TOML: "):
        pyproject_without_secrets("[tool\n", set())


# -- literal secrets in code configs -------------------------------------------------------------------

CONFIGS = '''
from bigflow import Config, DeploymentConfig
from bigflow.configuration import secret, SecretStr
from bigflow_bigquery import DatasetConfig

SHARED = {"signing_key": "sk-1234", "region": "eu"}

deployment_config = Config("local", {
    "db_password": "pw-1234",            # literal: reported
    "api_token": None,                   # required from bf_api_token
    "user_token": secret(),              # the same
    "url_token": "{db_password}@host",   # a reference to another key
    "empty_key": "",
    "dsn": "postgres://u@h/db",          # secret by secrets=
    "region": "eu",
}, secrets=["dsn"]).add_configuration("prod", {
    "password": secret("pw-default"),     # a literal default of a secret
    "note": SecretStr("literal"),         # secret by its value
    "api_token": os.environ.get("TOKEN"), # computed at run time
})
shared = DeploymentConfig("dev", SHARED, True, True, "bamboo_bf_")
datasets = DatasetConfig(env="dev", project_id="p", properties=dict(service_key="sa-1234", table="t"))
datasets.add_configuration("prod", "p", "d", None, None, {"service_key": "sa-5678"})
'''


def test_literal_secret_values_in_config_calls_are_found_with_file_environment_and_key():
    found = scan_configs(CONFIGS, "shop/config.py", {"declared_setting"})
    assert [(f.line, f.env, f.key) for f in found] == [
        (6, "dev", "signing_key"), (9, "local", "db_password"), (14, "local", "dsn"), (17, "prod", "password"),
        (18, "prod", "note"), (22, "dev", "service_key"), (23, "prod", "service_key")]
    assert str(found[1]) == ("shop/config.py:9: environment 'local', key 'db_password': its literal value goes "
                             "into the image; read it from bf_db_password instead")


def test_a_declared_secret_setting_is_reported_and_an_unparsable_module_is_left_to_the_import():
    found = scan_configs('Config("dev", {"declared_setting": "value"})\n', "m.py", {"declared_setting"})
    assert [(f.env, f.key) for f in found] == [("dev", "declared_setting")]
    assert scan_configs("def (:\n", "m.py", set()) == []


DEPLOYMENT_CONFIG = '''from bigflow import Config

deployment_config = Config("local", {"db_password": "pw-1234"}).add_configuration("dev", {})
'''
WARNING = ("bigflow: warning: deployment_config.py:3: environment 'local', key 'db_password': its literal value "
           "goes into the image; read it from bf_db_password instead")


def test_build_image_warns_about_each_literal_secret_and_strict_makes_it_an_error(bigflow_project, tmp_path):
    bigflow_project.write("deployment_config.py", DEPLOYMENT_CONFIG)
    bigflow_project.write("demo/keys.py", 'from bigflow import Config\nkeys = Config("dev", {"signing_key": "k-1234"})\n')
    bigflow_project.commit("configs with literal secrets")
    no_engine = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    warned = bigflow_project.run("build", "image", env=no_engine)
    lines = [line for line in warned.stderr.splitlines() if line.startswith(("bigflow:", "Error:"))]
    assert lines[:2] == [WARNING, WARNING.replace("deployment_config.py:3", "demo/keys.py:2").replace(
        "'local', key 'db_password'", "'dev', key 'signing_key'").replace("bf_db_password", "bf_signing_key")]
    assert warned.exit_code == 1 and lines[-1].startswith("Error: no Docker engine answers at")  # the build went on
    strict = bigflow_project.run("build", "image", "--strict-secrets", env=no_engine)
    assert strict.exit_code == 1
    assert strict.stderr.splitlines()[1:] == [WARNING.replace("warning", "error"), lines[1].replace("warning", "error"),
                                          "Error: 2 literal secret value(s) in the project's configs would go into "
                                          "the image (listed above): read them from bf_<key> variables instead"]
    pyproject = bigflow_project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.bigflow]\n", "[tool.bigflow]\nstrict-secrets = true\n"))
    bigflow_project.commit("strict")
    assert bigflow_project.run("build", "image", env=no_engine).stderr.splitlines()[1:] == strict.stderr.splitlines()[1:]
