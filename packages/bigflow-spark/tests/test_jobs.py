"""PySparkJob itself: arguments, requirements, and what it ships."""

import sys

import pytest

from bigflow.errors import BigflowError
from bigflow.project import find_project
from bigflow_spark import PySparkJob


def test_pip_packages_from_a_requirements_file(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\n--index-url https://pypi.org/simple\npandas>=1  # frames\n\n"
                            "numpy==2.1 \\\n    --hash=sha256:abc \\\n    # via pandas\n"
                            "pyarrow==18 --hash=sha256:def\ntyping-extensions; python_version < '3.12'\n")
    assert PySparkJob("j", driver=print, pip_packages=requirements).pip_packages == [
        "pandas>=1", "numpy==2.1", "pyarrow==18", "typing-extensions; python_version < '3.12'"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"driver": 42}, "driver must be a function or the path of a .py file, got 42"),
    ({"driver": print, "driver_args": "a b"}, "driver_args must be a list or a mapping, got 'a b'"),
    ({"driver": "x.py", "driver_args": {"a": 1}}, "a driver file takes a list of arguments (sys.argv), not a mapping"),
    ({"driver": print, "spark_confs": {}}, "unknown argument 'spark_confs'; did you mean 'spark_conf'?"),
])
def test_bad_job_arguments(kwargs, message, one_line):
    with pytest.raises(BigflowError) as raised:
        PySparkJob("j", **kwargs)
    assert one_line(raised.value) == f"PySparkJob 'j': {message}"


def test_project_package_is_shipped(in_project):
    from sparkdemo.drivers import count_words

    assert PySparkJob("j", driver=count_words).package_dir() == in_project / "sparkdemo"


def test_installed_package_is_shipped_without_a_project(tmp_path, monkeypatch):
    """E.g. the project installed in an image, run from a directory that is no bigflow project."""
    package = tmp_path / "site" / "plainpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text("def driver(spark, context):\n    return 1\n")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.chdir(tmp_path)
    find_project.cache_clear()
    from plainpkg.jobs import driver

    try:
        assert PySparkJob("j", driver=driver).package_dir() == package
        assert PySparkJob("j", driver=print).package_dir() is None
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "plainpkg"]:
            del sys.modules[name]
        find_project.cache_clear()
