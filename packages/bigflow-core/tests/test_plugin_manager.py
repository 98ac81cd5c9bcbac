"""Loading, isolation, selection and contributions of plugins (PluginHost over fixture plugin modules)."""

import pytest

from bigflow.errors import PluginError, UnknownNameError
from bigflow.plugins.manager import DISABLED, FAILED, INCOMPATIBLE, OK, api_mismatch


def test_good_plugin_loads_and_contributes(fixture_host):
    host = fixture_host(("good", "good_plugin"))
    host.load()
    (plugin,) = host.plugins
    assert plugin.status == OK
    assert host.hooks_of(plugin) == ["before_job", "register_commands", "register_job_types"]
    assert host.contribution("job_type", "good").__name__ == "GoodJob"
    assert host.contributions("job_type")["good"].plugin == "good"


def test_loading_is_lazy_and_idempotent(fixture_host):
    import sys

    sys.modules.pop("good_plugin", None)
    host = fixture_host(("good", "good_plugin"))
    assert [p.status for p in host.plugins] == ["not loaded"]
    assert "good_plugin" not in sys.modules
    first = host.load()
    module = sys.modules["good_plugin"]
    assert host.load() is first
    assert len(host.pm.get_plugins()) == 1 and sys.modules["good_plugin"] is module


@pytest.mark.parametrize(
    ("module", "reason"),
    [
        ("raises_at_import", "RuntimeError: this plugin is broken at import"),
        ("syntax_error", "SyntaxError: "),
        ("missing_module_xyz", "ModuleNotFoundError: No module named 'missing_module_xyz'"),
        ("unknown_hook", "PluginError: implements unknown hook 'register_job_typos'"),
    ],
)
def test_broken_plugin_is_isolated(fixture_host, capsys, module, reason):
    host = fixture_host(("good", "good_plugin"), ("broken", module))
    host.load()
    good, broken = host.plugins
    assert good.status == OK
    assert broken.status == FAILED and broken.reason.startswith(reason)
    assert host.contribution("job_type", "good")  # the good plugin still works
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("bigflow: warning: plugin 'broken' failed: ")
    assert "BIGFLOW_DISABLE_PLUGINS=broken" in err[0]


def test_registration_failure_marks_plugin_failed_and_drops_its_contributions(fixture_host, capsys):
    host = fixture_host(("good", "good_plugin"), ("bad", "raises_in_hook"))
    assert set(host.contributions("job_type")) == {"good"}
    bad = host.plugin("bad")
    assert bad.status == FAILED and bad.reason == "ValueError: registration exploded"
    assert "plugin 'bad' failed: ValueError: registration exploded" in capsys.readouterr().err


def test_strict_mode_turns_failures_into_errors(fixture_host, monkeypatch):
    host = fixture_host(("broken", "raises_at_import"))
    monkeypatch.setenv("BIGFLOW_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="plugin 'broken' failed: RuntimeError.*BIGFLOW_STRICT_PLUGINS"):
        host.load()


def test_incompatible_api_range_is_not_loaded(fixture_host, capsys):
    import sys

    sys.modules.pop("good_plugin", None)
    host = fixture_host(("old", "good_plugin"), api=">=0.1,<1")
    host.load()
    (plugin,) = host.plugins
    assert plugin.status == INCOMPATIBLE
    assert plugin.reason == "requires plugin API >=0.1,<1, core provides 1.0"
    assert "good_plugin" not in sys.modules
    assert "plugin 'old' incompatible: requires plugin API" in capsys.readouterr().err


def test_api_mismatch():
    assert api_mismatch(None) == ""
    assert api_mismatch(">=1,<2") == ""
    assert api_mismatch(">=2") == "requires plugin API >=2, core provides 1.0"
    assert api_mismatch("one or two") == "invalid plugin API range 'one or two'"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BIGFLOW_DISABLE_PLUGINS", "broken", {"good": OK, "broken": DISABLED}),
        ("BIGFLOW_DISABLE_PLUGINS", "good,broken", {"good": DISABLED, "broken": DISABLED}),
        ("BIGFLOW_LOAD_PLUGINS", "good", {"good": OK, "broken": DISABLED}),
        ("BIGFLOW_LOAD_PLUGINS", "", {"good": DISABLED, "broken": DISABLED}),
    ],
)
def test_selection_by_environment(fixture_host, monkeypatch, capsys, variable, value, expected):
    host = fixture_host(("good", "good_plugin"), ("broken", "raises_at_import"))
    monkeypatch.setenv(variable, value)
    host.load()
    assert {p.name: p.status for p in host.plugins} == expected
    assert capsys.readouterr().err == ""


def test_two_plugins_with_the_same_job_type_conflict(fixture_host, capsys):
    host = fixture_host(("good", "good_plugin"), ("dup", "duplicate_job"))
    with pytest.raises(PluginError) as error:
        host.contribution("job_type", "good")
    assert str(error.value) == (
        "job type 'good' is provided by several plugins (dup, good); disable one with BIGFLOW_DISABLE_PLUGINS"
    )
    assert "job type 'good' is provided by both 'dup' and 'good'" in capsys.readouterr().err


def test_unknown_contribution_suggests_the_nearest(fixture_host):
    host = fixture_host(("good", "good_plugin"))
    with pytest.raises(UnknownNameError, match=r"unknown job type 'godo' \(did you mean 'good'\?\)"):
        host.contribution("job_type", "godo")
    with pytest.raises(UnknownNameError, match=r"unknown job type 'zzz' \(known: good\)"):
        host.contribution("job_type", "zzz")


def test_malformed_metadata_is_a_failure_without_import(fixture_host):
    from bigflow.plugins.discovery import PluginInfo
    from bigflow.plugins.manager import PluginHost

    info = PluginInfo(name="weird", version="1", modules={"weird": "not a module::"},
                      problems=["malformed entry point 'weird' = 'not a module::' (expected 'package.module')"])
    host = PluginHost([info])
    assert host.plugins[0].status == FAILED
    assert host.plugins[0].reason.startswith("malformed entry point 'weird'")


@pytest.mark.parametrize(
    "spec", [">=1,<2", ">=1.0, <1.1", "==1.0", "!=1.0", ">1", "<=0.9", "~=1.0", "==1.*", ">=2", ">=0.5,!=1.0"]
)
def test_api_fast_path_agrees_with_packaging(spec):
    from packaging.specifiers import SpecifierSet

    from bigflow.version import PLUGIN_API_VERSION

    assert (api_mismatch(spec) == "") == SpecifierSet(spec).contains(PLUGIN_API_VERSION)


def test_plugin_hanging_at_import_fails_after_the_time_limit(fixture_host, monkeypatch, capsys):
    monkeypatch.setenv("BIGFLOW_PLUGIN_IMPORT_TIMEOUT", "0.3")
    host = fixture_host(("good", "good_plugin"), ("hangs", "hangs_at_import"))
    host.load()
    assert host.plugin("hangs").status_text == "failed: PluginError: import did not finish in 0.3 s"
    assert host.contribution("job_type", "good")
    assert "plugin 'hangs' failed: PluginError: import did not finish in 0.3 s" in capsys.readouterr().err


def test_plugin_without_an_api_range_is_taken_as_the_current_major(fixture_host):
    host = fixture_host(("good", "good_plugin"), api=None)
    assert host.load().plugins[0].status == OK


def test_provides_is_checked_against_what_the_plugin_registers(fixture_host):
    from bigflow.plugins.checks import provides_problems, registered_by
    from bigflow.plugins.discovery import PluginInfo
    from bigflow.plugins.manager import PluginHost

    fixture_host()  # puts the fixture modules on sys.path
    info = PluginInfo(
        name="good", version="1", modules={"good": "good_plugin"}, api=">=1,<2",
        provides={"job_type": ["good", "ghost"]},
        locations={("job_type", "good"): "good_plugin:GoodJob", ("job_type", "ghost"): "good_plugin:GhostJob"},
    )
    host = PluginHost([info]).load()
    assert provides_problems(host.plugins[0], registered_by(host)["good"]) == [
        "good: declares job type 'ghost' in bigflow.provides but never registers it",
        "good: registers command 'good' but does not declare it in bigflow.provides: "
        "add \"command:good\" = \"module:object\"",
        "good: job type 'ghost' is said to live at 'good_plugin:GhostJob', which cannot be imported "
        "(AttributeError: module 'good_plugin' has no attribute 'GhostJob')",
    ]


def test_an_undeclared_config_source_is_reported_as_never_consulted(fixture_host):
    from bigflow.plugins.checks import provides_problems, registered_by

    host = fixture_host(("vaulty", "undeclared_source")).load()
    assert provides_problems(host.plugins[0], registered_by(host)["vaulty"]) == [
        "vaulty: registers config source 'vault' but does not declare it in bigflow.provides (so it is never "
        "consulted): add \"config_source:vault\" = \"module:object\"",
    ]


def test_contributions_of_one_kind_call_only_that_kinds_register_hook(fixture_host, capsys):
    host = fixture_host(("good", "good_plugin"), ("bad", "raises_in_hook"))
    assert host.contributions("artifact_builder") == {}
    assert host.plugin("bad").status == OK  # its failing register_job_types was not called
    assert set(host.contributions("job_type")) == {"good"}
    assert host.plugin("bad").status == FAILED
