"""bigflow.output: the output helpers core and plugins share (bigflow.api re-exports them)."""

import sys

from bigflow import api
from bigflow.output import reset_warnings
from bigflow.testing.terminal import on_a_terminal


def test_say_writes_to_stderr_and_progress_adds_nothing_when_piped(capsys, monkeypatch):
    api.say("==> step")
    with api.progress("uploading 3 files") as line:
        line.update("uploading 2/3")
        print("result")
    assert capsys.readouterr() == ("result\n", "==> step\n")
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


PROGRESS_ON_A_TERMINAL = """
import time
from bigflow import api
with api.progress("starting the engine") as line:
    time.sleep(0.3)
    line.update("step 2/2")
    with api.progress("a parallel job"):  # one line at a time
        time.sleep(0.3)
print("done")
"""


def test_progress_shows_a_spinner_with_elapsed_time_on_a_terminal_but_not_with_quiet():
    code, shown = on_a_terminal([sys.executable, "-c", PROGRESS_ON_A_TERMINAL])
    assert code == 0, shown
    assert "starting the engine" in shown and "step 2/2" in shown and "0:00:0" in shown, shown
    assert "a parallel job" not in shown, shown
    assert shown.rstrip().endswith("done"), shown
    code, quiet = on_a_terminal([sys.executable, "-c", PROGRESS_ON_A_TERMINAL], env={"BIGFLOW_VERBOSITY": "-1"})
    assert code == 0, quiet
    assert "starting the engine" not in quiet and "done" in quiet, quiet
