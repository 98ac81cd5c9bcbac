"""BigFlow 1.x import paths served by core: bigflow.resources, bigflow.commons, and the plugin-served paths."""

from __future__ import annotations

import importlib
import sys
import types
from datetime import timedelta
from pathlib import Path

import pytest

from bigflow.commons import (
    as_timedelta,
    build_docker_image_tag,
    decode_version_number_from_file_name,
    valid_datetime,
)
from bigflow.compat import plugin_exports, plugin_package
from bigflow.resources import find_all_resources, find_file, get_resource_absolute_path


@pytest.fixture
def project(tmp_path):
    (tmp_path / "resources" / "sql").mkdir(parents=True)
    (tmp_path / "resources" / "query.sql").write_text("SELECT 1")
    (tmp_path / "resources" / "sql" / "b.sql").write_text("SELECT 2")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "wf.py").write_text(
        "from bigflow.resources import get_resource_absolute_path\nPATH = get_resource_absolute_path('query.sql')\n")
    return tmp_path


def test_resources_are_found_above_the_calling_module(project, monkeypatch):
    assert find_file("resources", project / "pkg" / "sub" / "wf.py") == project / "resources"
    assert get_resource_absolute_path("query.sql", project / "pkg" / "x.py") == project / "resources" / "query.sql"
    monkeypatch.syspath_prepend(str(project))
    assert importlib.import_module("pkg.sub.wf").PATH == project / "resources" / "query.sql"  # default: the caller
    sys.modules.pop("pkg.sub.wf", None)
    assert list(find_all_resources(project / "resources")) == ["resources/query.sql", "resources/sql/b.sql"]


def test_missing_resources_are_value_errors_as_in_1x(project):
    with pytest.raises(ValueError, match=r"can't find 'nothing' in the 1 directories above"):
        find_file("nothing", project / "pkg" / "x.py", max_depth=1)
    with pytest.raises(ValueError, match=r"resource 'absent.sql' is not a file in .*resources$"):
        get_resource_absolute_path("absent.sql", project / "pkg" / "x.py")


def test_commons(tmp_path):
    assert [valid_datetime(v) for v in ("NOW", "2022-01-01", "2022-01-01 12:34:56")] == \
        ["NOW", "2022-01-01", "2022-01-01 12:34:56"]
    for bad in ("2022-01-01 34:56:78", "2022-23-45", "foo"):
        with pytest.raises(ValueError, match="invalid runtime"):
            valid_datetime(bad)
    (tmp_path / "image-0.3.0.dev-4b45b638.tar").touch()
    assert decode_version_number_from_file_name(tmp_path / "image-0.3.0.dev-4b45b638.tar") == "0.3.0.dev-4b45b638"
    (tmp_path / "image.tar").touch()
    with pytest.raises(ValueError, match="expected NAME-VERSION.tar"):
        decode_version_number_from_file_name(tmp_path / "image.tar")
    assert build_docker_image_tag("eu.gcr.io/p/img", "1.0+g12") == "eu.gcr.io/p/img:1.0-g12"
    assert (as_timedelta("90"), as_timedelta(""), as_timedelta(None)) == (timedelta(seconds=90), None, None)


def test_a_1x_path_without_its_plugin_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "bigflow.nope", types.ModuleType("bigflow.nope"))
    getattr_, _ = plugin_exports("bigflow.nope", "bigflow-nope", {"Thing": "bigflow_nope_plugin.things"})
    with pytest.raises(ImportError, match=r"^bigflow\.nope is provided by the bigflow-nope plugin: pip install "
                                          r"bigflow-nope$"):
        getattr_("Thing")
    package_getattr = plugin_package("bigflow.nope", "bigflow-nope", "bigflow_nope_plugin")
    with pytest.raises(ImportError, match="pip install bigflow-nope"):
        package_getattr("Thing")
    with pytest.raises(AttributeError):
        getattr_("Other")


def test_1x_modules_are_attributes_of_bigflow():
    import bigflow

    assert bigflow.resources.find_file is find_file
    assert Path(bigflow.commons.__file__).name == "commons.py"
    assert bigflow.testing.ForkIsolateMixin.__module__ == "bigflow.testing.isolate"
