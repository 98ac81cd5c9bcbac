"""bigflow.output: the output helpers core and plugins share (bigflow.api re-exports them)."""

from bigflow import api
from bigflow.output import reset_warnings


def test_say_and_progress_write_to_stderr_and_honour_quiet(capsys, monkeypatch):
    api.say("==> step")
    with api.progress("uploading 3 files"):
        print("result")
    assert capsys.readouterr() == ("result\n", "==> step\nuploading 3 files ...\n")
    monkeypatch.setenv("BIGFLOW_VERBOSITY", "-1")
    api.say("hidden")
    assert capsys.readouterr().err == ""


def test_warn_once_per_process(capsys):
    reset_warnings()
    api.warn("careful")
    api.warn("careful")
    assert capsys.readouterr().err == "bigflow: warning: careful\n"


def test_confirm_is_no_off_a_terminal_unless_assumed(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert api.confirm("Deploy?") is False
    assert api.confirm("Deploy?", assume_yes=True) is True


def test_print_table_and_json_when_piped(capsys):
    api.print_table("t", ("A", "Bee"), [("1", "2"), ("333", "4")])
    api.print_json({"a": 1})
    assert capsys.readouterr().out == 'A    Bee\n1    2\n333  4\n{\n  "a": 1\n}\n'
