"""One exit code per kind of failure, whatever the command (``bigflow.exit_codes``)."""

import pytest
from test_finder import WORKFLOW
from test_run_command import bigflow, one_line_error, write_project

from bigflow import exit_codes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "Error: No such command 'nope'."),
        (["run", "--workflow", "wf", "--nope"], "Error: No such option '--nope'."),
        (["run", "--workflow", "nope"], "Error: unknown workflow 'nope'"),
        (["run", "--job", "wf.nope"], "Error: unknown job 'nope' in workflow 'wf'"),
        (["run", "--workflow", "wf", "--config", "nope"], "Error: unknown environment 'nope'"),
        (["workflows", "show", "nope"], "Error: unknown workflow 'nope'"),
        (["logs", "--workflow", "nope"], "Error: unknown workflow 'nope'"),
        (["logs", "--config", "nope"], "Error: unknown environment 'nope'"),
        (["config", "show", "--config", "nope"], "Error: unknown environment 'nope'"),
        (["build", "nope"], "Error: unknown artifact builder 'nope'"),
    ],
)
def test_unknown_names_and_bad_usage_exit_2(tmp_path, args, message):
    root = write_project(tmp_path, a=WORKFLOW + "wf = bigflow.Workflow('wf', [PythonJob('j', ok)])\n")
    assert one_line_error(bigflow(root, *args), exit_codes.USAGE).startswith(message)


def test_the_table_has_one_meaning_per_code():
    codes = [code for code, _ in exit_codes.TABLE]
    assert codes == sorted(set(codes)) and {exit_codes.FAILED, exit_codes.USAGE, exit_codes.PLUGIN,
                                            exit_codes.REFUSED} <= set(codes)
