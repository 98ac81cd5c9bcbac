import sys
from pathlib import Path

import pytest

from bigflow.output import reset_warnings
from bigflow.plugins.discovery import PluginInfo
from bigflow.plugins.manager import PluginHost

FIXTURES = Path(__file__).parent / "fixture_plugins"
sys.path.insert(0, str(Path(__file__).parent))  # shared helpers of test modules (tests use importlib mode)


@pytest.fixture(autouse=True)
def _only_core_plugins(monkeypatch, _bigflow_test_host):
    """Core's tests see core's builtin plugins only; tests/ at the root covers the installed plugins. Each test
    gets a fresh plugin host, so a host loaded without plugins here is not the one later packages' tests use."""
    monkeypatch.setenv("BIGFLOW_LOAD_PLUGINS", "")


@pytest.fixture
def fixture_host(monkeypatch):
    """Build a PluginHost over fixture plugin modules: ``fixture_host(("name", "module"), ...)``."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    for variable in ("BIGFLOW_DISABLE_PLUGINS", "BIGFLOW_LOAD_PLUGINS", "BIGFLOW_STRICT_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    reset_warnings()

    def build(*specs, api=">=1,<2"):
        infos = []
        for spec in specs:
            name, module, *provides = spec
            infos.append(PluginInfo(name=name, version="1.0", modules={name: module}, api=api,
                                    provides=provides[0] if provides else {}))
        return PluginHost(infos)

    return build
