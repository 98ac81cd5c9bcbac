"""Plugin discovery reads the entry-point metadata of installed distributions from sys.path directories, as
importlib.metadata would, without importing anything: these tests lay real metadata directories on sys.path."""

import sys
from importlib import metadata

import pytest

from bigflow.plugins.discovery import discover, normalize


def dist_info(directory, dirname, entry_points, metadata_text=None):
    path = directory / dirname
    path.mkdir(parents=True)
    if entry_points is not None:
        (path / "entry_points.txt").write_text(entry_points)
    if metadata_text is not None:
        (path / ("PKG-INFO" if dirname.endswith(".egg-info") else "METADATA")).write_text(metadata_text)
    return path


ACME = """\
# written by hand
[console_scripts]
acme = acme.cli:main

[bigflow]
acme = acme_bigflow.plugin

[bigflow.api]
requires = >=1,<2

[bigflow.provides]
job_type:acme = acme_bigflow.jobs:AcmeJob
; a comment in INI style
command:acme = acme_bigflow.cli:acme
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing"), *sys.path])
    return first, second


def by_name(infos):
    return {info.name: info for info in infos}


def test_a_plugin_is_read_from_its_entry_points_with_groups_comments_and_provides(site):
    dist_info(site[0], "acme_bigflow-2.1.0.dist-info", ACME)
    acme = by_name(discover())["acme-bigflow"]
    assert (acme.version, acme.modules, acme.api) == ("2.1.0", {"acme": "acme_bigflow.plugin"}, ">=1,<2")
    assert acme.provides == {"job_type": ["acme"], "command": ["acme"]}
    assert acme.locations[("command", "acme")] == "acme_bigflow.cli:acme"
    assert acme.problems == []


def test_the_same_plugins_as_importlib_metadata_finds(site):
    dist_info(site[0], "acme_bigflow-2.1.0.dist-info", ACME.replace("; a comment in INI style\n", ""),
              "Metadata-Version: 2.1\nName: acme_bigflow\nVersion: 2.1.0\n")
    dist_info(site[1], "Other.Plugin-0.3.egg-info", "[bigflow]\nother = other.plugin\n",
              "Metadata-Version: 2.1\nName: Other.Plugin\nVersion: 0.3\n\nName: not a header\n")
    dist_info(site[1], "no_plugin-1.0.dist-info", "[console_scripts]\nx = y:z\n")
    expected = {(normalize(ep.dist.metadata["Name"]), ep.dist.version, ep.name, ep.value)
                for ep in metadata.entry_points(group="bigflow")}
    infos = discover()
    assert {(normalize(info.name), info.version, name, value) for info in infos
            for name, value in info.modules.items()} == expected
    assert ("Other.Plugin", "0.3") in {(info.name, info.version) for info in infos}  # from PKG-INFO


def test_the_first_distribution_of_a_name_on_sys_path_wins_even_without_entry_points(site):
    dist_info(site[0], "acme_bigflow-3.0.dist-info", "[console_scripts]\nacme = acme.cli:main\n")
    dist_info(site[1], "acme_bigflow-2.1.0.dist-info", ACME)
    assert "acme-bigflow" not in by_name(discover())  # as for imports: the first one shadows the second


def test_malformed_metadata_is_reported_not_raised(site):
    dist_info(site[0], "bad_plugin-1.0.dist-info", "[bigflow]\nbad = not a module!\n[bigflow.provides]\nnokind = x:y\n")
    dist_info(site[0], "unreadable-1.0.dist-info", None)  # no entry_points.txt at all
    bad = by_name(discover())["bad-plugin"]
    assert bad.problems[0] == "malformed entry point 'bad' = 'not a module!' (expected 'package.module')"
    assert bad.problems[1].startswith("malformed provides entry 'nokind' (expected 'KIND:NAME', KIND one of job_type")
    assert len(bad.problems) == 2


def test_core_comes_first():
    infos = discover()
    assert infos[0].builtin and infos[0].name == "bigflow-core"
