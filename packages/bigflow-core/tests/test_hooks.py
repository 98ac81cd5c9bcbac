"""Every hook: documented in docs/plugins.md, exercised by a ``test_hook_<name>`` test here."""

import inspect
import re
import sys
from datetime import datetime
from pathlib import Path

import click
import pytest

from bigflow.plugins import hookimpl, hookspecs

HOOKS = sorted(
    name for name, value in vars(hookspecs).items()
    if inspect.isfunction(value) and hasattr(value, "bigflow_spec")
)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "plugins.md"


def test_there_are_hooks():
    assert len(HOOKS) >= 11


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    signature = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    text = DOCS.read_text()
    assert f"### `{hook}({signature})`" in text, f"docs/plugins.md has no section '### `{hook}({signature})`'"
    section = text.split(f"### `{hook}(", 1)[1].split("\n### ", 1)[0]
    assert "```python" in section, f"the section of {hook} has no example"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in dir(sys.modules[__name__]), f"write test_hook_{hook} in test_hooks.py"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_spec_docstring_says_when_it_is_called(hook):
    doc = getattr(hookspecs, hook).__doc__
    assert re.search(r"\bCalled\b", doc), f"{hook}: the docstring must say when it is called"
    for parameter in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f":param {parameter}:" in doc


def _registered(bigflow_register, hook_name, obj_name, obj):
    class Plugin:
        pass

    def impl(register):
        register(obj_name, obj)

    setattr(Plugin, hook_name, staticmethod(hookimpl(impl)))
    bigflow_register(Plugin(), name=f"test-{hook_name}")


@pytest.mark.parametrize(
    ("hook", "kind"),
    [
        ("register_job_types", "job_type"),
        ("register_config_sources", "config_source"),
        ("register_artifact_builders", "artifact_builder"),
        ("register_deploy_targets", "deploy_target"),
        ("register_starters", "starter"),
    ],
)
def test_contribution_hooks_record_the_provider(bigflow_register, bigflow_host, hook, kind):
    thing = object()
    _registered(bigflow_register, hook, "thing", thing)
    assert bigflow_host.contribution(kind, "thing") is thing
    assert bigflow_host.contributions(kind)["thing"].plugin == f"test-{hook}"


def test_hook_register_job_types(bigflow_register):
    from bigflow.plugins import job_type

    class EchoJob:
        def __init__(self, id):
            self.id = id

    _registered(bigflow_register, "register_job_types", "echo", EchoJob)
    assert job_type("echo")("x").id == "x"
    assert job_type("python").__name__ == "PythonJob"  # core's builtin plugin, same door


def test_hook_register_commands(bigflow_register, bigflow_cli):
    @click.command("hello")
    def hello():
        click.echo("hello from a plugin")

    _registered(bigflow_register, "register_commands", "hello", hello)
    result = bigflow_cli("hello")
    assert (result.exit_code, result.stdout) == (0, "hello from a plugin\n")


def test_hook_register_config_sources(bigflow_register, bigflow_host):
    class Source:
        def load(self, env, keys):
            return {"answer": 42}

    _registered(bigflow_register, "register_config_sources", "vault", Source())
    assert bigflow_host.contribution("config_source", "vault").load("dev", ["answer"]) == {"answer": 42}


def test_hook_register_settings(bigflow_register, bigflow_host, tmp_path):
    from bigflow.environment import resolve, settings_registry
    from bigflow.project import Project
    from bigflow.settings import Setting

    _registered(bigflow_register, "register_settings", "acme_url", Setting("acme_url", str, required=("prod",)))
    assert settings_registry().get("acme_url").plugin == "test-register_settings"
    project = Project(tmp_path, {"environments": {"prod": {"acme_url": "https://acme"}, "dev": {}}}, "p")
    assert resolve(project, "prod").str("acme_url") == "https://acme" and resolve(project, "dev").get("acme_url") is None


def test_hook_register_artifact_builders(bigflow_register, bigflow_host):
    class Builder:
        def build(self, project, options):
            return ["artifact"]

    _registered(bigflow_register, "register_artifact_builders", "zip", Builder())
    assert bigflow_host.contribution("artifact_builder", "zip").build(None, {}) == ["artifact"]


def test_hook_register_deploy_targets(bigflow_register, bigflow_host):
    class Target:
        def plan(self, project, manifest, env):
            return "nothing to do"

    _registered(bigflow_register, "register_deploy_targets", "noop", Target())
    assert bigflow_host.contribution("deploy_target", "noop").plan(None, None, "dev") == "nothing to do"


def test_hook_register_starters(bigflow_register, bigflow_host):
    class Starter:
        def files(self, context):
            return {"README.md": "hi"}

    _registered(bigflow_register, "register_starters", "readme", Starter())
    assert bigflow_host.contribution("starter", "readme").files({}) == {"README.md": "hi"}


class Recorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def before_workflow(self, workflow, context):
        self.calls.append(("before_workflow", workflow))

    @hookimpl
    def after_workflow(self, workflow, context, report):
        self.calls.append(("after_workflow", report))

    @hookimpl
    def before_job(self, job, context):
        self.calls.append(("before_job", job))

    @hookimpl
    def after_job(self, job, context, result):
        self.calls.append(("after_job", result))

    @hookimpl
    def on_job_error(self, job, context, error):
        self.calls.append(("on_job_error", str(error)))


@pytest.fixture
def recorder(bigflow_register):
    recorder = Recorder()
    bigflow_register(recorder, name="recorder")
    return recorder


def test_hook_before_workflow(recorder, bigflow_host):
    bigflow_host.notify("before_workflow", workflow="wf", context=datetime(2026, 1, 1))
    assert recorder.calls == [("before_workflow", "wf")]


def test_hook_after_workflow(recorder, bigflow_host):
    bigflow_host.notify("after_workflow", workflow="wf", context=None, report="report")
    assert recorder.calls == [("after_workflow", "report")]


def test_hook_before_job(recorder, bigflow_host):
    bigflow_host.notify("before_job", job="job-1", context=None)
    assert recorder.calls == [("before_job", "job-1")]


def test_hook_after_job(recorder, bigflow_host):
    bigflow_host.notify("after_job", job="job-1", context=None, result=7)
    assert recorder.calls == [("after_job", 7)]


def test_hook_on_job_error(recorder, bigflow_host):
    bigflow_host.notify("on_job_error", job="job-1", context=None, error=ValueError("bad"))
    assert recorder.calls == [("on_job_error", "bad")]


def test_failing_lifecycle_hook_is_isolated(bigflow_register, bigflow_host, recorder, capsys):
    class Exploding:
        @hookimpl
        def before_job(self, job, context):
            raise RuntimeError("observer exploded")

    bigflow_register(Exploding(), name="exploding")
    bigflow_host.notify("before_job", job="job-1", context=None)
    assert recorder.calls == [("before_job", "job-1")]
    assert bigflow_host.plugin("exploding").status_text == "failed: RuntimeError: observer exploded"
    assert "plugin 'exploding' failed: RuntimeError: observer exploded" in capsys.readouterr().err
