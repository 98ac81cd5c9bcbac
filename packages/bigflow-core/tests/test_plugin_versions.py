"""bigflow.plugins.versions: version ranges checked without packaging, agreeing with it."""

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from bigflow.plugins.versions import InvalidRange, contains, requirement

SPECS = [">=0.1,<1", ">=1.0, <1.1", "==1.0", "!=1.0", ">1", "<=0.9", "~=1.0", "==1.*", ">=2", ">=0.5,!=1.0", ""]
VERSIONS = ["0.1.0", "0.9", "1", "1.0.0", "1.0.1", "2.3", "1.0.dev1", "0+gbf8d2", "1.0.post1"]


@pytest.mark.parametrize("spec", SPECS)
def test_contains_agrees_with_packaging(spec):
    for version in VERSIONS:
        assert contains(spec, version) == SpecifierSet(spec).contains(version, prereleases=True), (spec, version)


@pytest.mark.parametrize("text", ["bigflow-beam>=0.1,<1", "bigflow_spark", "x >= 1 , < 2", "x[extra]>=1",
                                  "x>=1; python_version>'3'"])
def test_requirement_agrees_with_packaging(text):
    parsed = Requirement(text)
    name, specifiers = requirement(text)
    assert name == parsed.name and SpecifierSet(specifiers) == parsed.specifier


@pytest.mark.parametrize(("spec", "text"), [(">=abc", "x y"), ("=>1", "!!"), ("1.0", "x[")])
def test_invalid_ranges_and_requirements_raise(spec, text):
    with pytest.raises(InvalidRange):
        contains(spec, "1.0")
    with pytest.raises(InvalidRange):
        requirement(text)
