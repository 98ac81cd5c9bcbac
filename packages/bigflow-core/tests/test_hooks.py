"""Every hook: documented in docs/plugins.md, exercised by a ``test_hook_<name>`` test here."""

import inspect
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
ROOT = Path(__file__).resolve().parents[3]


def _reference():
    """docs/hooks/plugin_reference.py, the generator of the plugin reference page."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("plugin_reference", ROOT / "docs" / "hooks" / "plugin_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_hooks():
    assert len(HOOKS) >= 12


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    assert _reference().problems(getattr(hookspecs, hook)) == []


def test_the_reference_page_has_every_hook_and_protocol(bigflow_host):
    text = _reference().render()
    for hook in HOOKS:
        assert f"### `{hook}`" in text
    for protocol in ("JobType", "ConfigSource", "ArtifactBuilder", "DeployTarget", "Starter", "Option"):
        assert f"### `{protocol}`" in text


def test_an_undocumented_hook_fails_the_reference():
    def register_widgets(register):
        """Contribute widgets."""

    assert _reference().problems(register_widgets) == [
        "register_widgets: the docstring does not say when it is called ('Called ...')",
        "register_widgets: argument 'register' is not documented (':param register:')",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in dir(sys.modules[__name__]), f"write test_hook_{hook} in test_hooks.py"


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
        options = ()

        def build(self, project, env, options):
            return ["artifact"]

    _registered(bigflow_register, "register_artifact_builders", "zip", Builder())
    assert bigflow_host.contribution("artifact_builder", "zip").build(None, None, {}) == ["artifact"]


def test_hook_register_deploy_targets(bigflow_register, bigflow_host):
    class Target:
        options = ()

        def plan(self, project, manifest, env, options):
            return "nothing to do"

    _registered(bigflow_register, "register_deploy_targets", "noop", Target())
    assert bigflow_host.contribution("deploy_target", "noop").plan(None, None, None, {}) == "nothing to do"


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


def test_failing_lifecycle_hook_is_reported_and_keeps_the_plugin(bigflow_register, bigflow_host, recorder, capsys):
    class Exploding:
        @hookimpl
        def before_job(self, job, context):
            raise RuntimeError("observer exploded")

        @hookimpl
        def register_job_types(self, register):
            register("exploding", object)

    bigflow_register(Exploding(), name="exploding")
    bigflow_host.notify("before_job", job="job-1", context=None)
    assert recorder.calls == [("before_job", "job-1")]
    plugin = bigflow_host.plugin("exploding")
    assert plugin.status == "ok" and plugin.hook_errors == ["before_job: RuntimeError: observer exploded"]
    assert bigflow_host.contribution("job_type", "exploding") is object  # its contributions stay
    assert "plugin 'exploding' failed in before_job: RuntimeError: observer exploded" in capsys.readouterr().err


def test_pluggy_calls_the_hooks_so_tryfirst_trylast_and_wrappers_work(bigflow_register, bigflow_host):
    order = []

    class Early:
        @hookimpl(tryfirst=True)
        def before_job(self, job, context):
            order.append("tryfirst")

    class Late:
        @hookimpl(trylast=True)
        def before_job(self, job, context):
            order.append("trylast")

    class Plain:
        @hookimpl
        def before_job(self, job, context):
            order.append("plain")
            raise RuntimeError("isolated")  # the others still run, the wrapper sees a normal result

    class Wrapper:
        @hookimpl(wrapper=True)
        def before_job(self, job, context):
            order.append("wrapper before")
            result = yield
            order.append("wrapper after")
            return result

    for plugin, name in ((Late(), "late"), (Early(), "early"), (Plain(), "plain"), (Wrapper(), "wrapper")):
        bigflow_register(plugin, name=name)
    bigflow_host.notify("before_job", job="job-1", context=None)
    assert order == ["wrapper before", "tryfirst", "plain", "trylast", "wrapper after"]


def test_failure_records_are_thread_safe(bigflow_register, bigflow_host, capsys):
    from concurrent.futures import ThreadPoolExecutor

    class Exploding:
        @hookimpl
        def after_job(self, job, context, result):
            raise RuntimeError(f"job {job}")

    bigflow_register(Exploding(), name="exploding")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: bigflow_host.notify("after_job", job=n, context=None, result=None), range(200)))
    errors = bigflow_host.plugin("exploding").hook_errors
    assert sorted(errors) == sorted(f"after_job: RuntimeError: job {n}" for n in range(200))


def test_hook_register_hookspecs(bigflow_register, bigflow_host):
    from bigflow.api import collect, hook, hookspec

    class Specs:
        @hookspec
        def register_widgets(self, register):
            """Contribute widgets."""

        @hookspec(firstresult=True)
        def pick_colour(self, widget):
            """The first plugin's answer wins."""

    class Host:
        @hookimpl
        def register_hookspecs(self, register):
            register(Specs)

    class User:  # implements hooks another plugin adds, with the usual marker
        @hookimpl
        def register_widgets(self, register):
            register("knob", "a knob")

        @hookimpl
        def pick_colour(self, widget):
            return "red"

    bigflow_register(User(), name="user")  # registered before the specs exist: checked once plugins load
    bigflow_register(Host(), name="host")
    assert {name: (c.obj, c.plugin) for name, c in collect("register_widgets", "widget").items()} == {
        "knob": ("a knob", "user")
    }
    assert hook().pick_colour(widget="knob") == "red"
    assert bigflow_host.plugin("user").status == "ok"


def test_a_hook_nobody_specifies_fails_only_that_plugin(bigflow_register, bigflow_host, capsys):
    class Typo:
        @hookimpl
        def register_widget(self, register):
            register("knob", "a knob")

    bigflow_register(Typo(), name="typo")
    bigflow_host.load()
    assert bigflow_host.plugin("typo").status_text == "failed: PluginError: implements unknown hook 'register_widget'"
    assert "plugin 'typo' failed: PluginError: implements unknown hook" in capsys.readouterr().err


def test_an_optional_hook_of_a_plugin_not_installed_is_no_error(bigflow_register, bigflow_host, capsys):
    class Optional:  # implements a hook a plugin adds that is not installed here
        @hookimpl(optionalhook=True)
        def start_widgets(self):
            return "started"

        @hookimpl
        def after_job(self, job, context, result):
            pass

    bigflow_register(Optional(), name="optional")
    bigflow_host.load()
    assert bigflow_host.plugin("optional").status == "ok"
    assert "optional" not in capsys.readouterr().err
