"""One exit code per kind of failure, whatever the command (``bigflow.exit_codes``)."""

import pytest
from test_finder import WORKFLOW
from test_run_command import bigflow, one_line_error, write_project

from bigflow import exit_codes

PROJECT_KEY = 'defualt-environment = "dev"'  # a near miss of a [tool.bigflow] key
ENVIRONMENT_KEY = 'docker_repositry = "acme"'  # a near miss of a declared setting, in the dev environment


@pytest.mark.parametrize(
    ("args", "message", "setup"),
    [
        (["nope"], "Error: No such command 'nope'.", {}),
        (["wrkflows", "list"], "Error: No such command 'wrkflows'. Did you mean 'workflows'?", {}),
        (["workflows", "lst"], "Error: No such command 'lst'. Did you mean 'list'?", {}),
        (["plugins", "chek"], "Error: No such command 'chek'. Did you mean 'check'?", {}),
        (["run", "--workflow", "wf", "--nope"], "Error: No such option '--nope'.", {}),
        (["run", "--workflow", "wff"], "Error: unknown workflow 'wff'; did you mean 'wf'?", {}),
        (["run", "--job", "wf.jj"], "Error: unknown job 'jj' in workflow 'wf'; did you mean 'j'?", {}),
        (["run", "--job", "wff.j"], "Error: unknown workflow 'wff'; did you mean 'wf'?", {}),
        (["run", "--workflow", "wf", "--config", "dv"], "Error: unknown environment 'dv' (known: local, dev); "
                                                        "did you mean 'dev'?", {}),
        (["workflows", "show", "wff"], "Error: unknown workflow 'wff'; did you mean 'wf'?", {}),
        (["logs", "--workflow", "wff"], "Error: unknown workflow 'wff'; did you mean 'wf'?", {}),
        (["logs", "--config", "dv"], "Error: unknown environment 'dv'", {}),
        (["logs", "--job", "wf.jj"], "Error: unknown job 'jj' in workflow 'wf'; did you mean 'j'?", {}),
        (["run", "--workflow", "wf", "--dry-run"], "Error: unknown environment 'dv' (from bf_env) (known: local, "
                                                   "dev); did you mean 'dev'?", {"env": {"bf_env": "dv"}}),
        (["config", "show", "--config", "dv"], "Error: unknown environment 'dv' (known: local, dev); "
                                               "did you mean 'dev'?", {}),
        (["build", "--config", "dv"], "Error: unknown environment 'dv'", {}),
        (["plan", "--config", "dv"], "Error: unknown environment 'dv'", {}),
        (["build", "packge"], "Error: unknown artifact builder 'packge' (did you mean 'package'?)", {}),
        (["plan", "imag"], "Error: unknown deploy target 'imag' (did you mean 'image'?)", {}),
        (["deploy", "imag", "--config", "dev"], "Error: unknown deploy target 'imag' (did you mean 'image'?)", {}),
        (["config", "show"], "Error: unknown key 'defualt-environment' in [tool.bigflow] of pyproject.toml; "
                             "did you mean 'default-environment'?", {"project": PROJECT_KEY}),
        (["run", "--workflow", "wf"], "Error: unknown key 'defualt-environment'", {"project": PROJECT_KEY}),
        (["config", "show"], "Error: unknown environment 'dv' (from default-environment) (known: local, dev); "
                             "did you mean 'dev'?", {"project": 'default-environment = "dv"'}),
        (["config", "show", "--config", "dev"], "Error: unknown configuration key 'docker_repositry' in environment "
                                                "'dev' (from pyproject.toml); did you mean 'docker_repository'?",
         {"dev": ENVIRONMENT_KEY}),
        (["build", "--config", "dev"], "Error: unknown configuration key 'docker_repositry'", {"dev": ENVIRONMENT_KEY}),
        (["plugins", "check"], "Error: BIGFLOW_DISABLE_PLUGINS names 'bigflow-cor', which is not an installed "
                               "plugin; did you mean 'bigflow-core'?", {"env": {"BIGFLOW_DISABLE_PLUGINS": "bigflow-cor"}}),
    ],
)
def test_unknown_names_and_bad_usage_exit_2(tmp_path, args, message, setup):
    root = write_project(tmp_path, a=WORKFLOW + "wf = bigflow.Workflow('wf', [PythonJob('j', ok)])\n")
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace('package = "proj"\n', f'package = "proj"\n{setup.get("project", "")}\n')
    pyproject.write_text(text + setup.get("dev", "") + "\n")
    assert one_line_error(bigflow(root, *args, env=setup.get("env")), exit_codes.USAGE).startswith(message)


def test_the_table_has_one_meaning_per_code():
    codes = [code for code, _ in exit_codes.TABLE]
    assert codes == sorted(set(codes)) and {exit_codes.FAILED, exit_codes.USAGE, exit_codes.PLUGIN,
                                            exit_codes.REFUSED} <= set(codes)
