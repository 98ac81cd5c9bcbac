"""Run BigFlow 1.x's public-API tests against our packages and print the counts.

    python tests/compat1x/run_1x_tests.py PATH_TO_1X_CHECKOUT [--json] [--examples]

``PATH`` is a BigFlow 1.11.3 checkout (``git clone -b 1.11.3 https://github.com/allegro/bigflow``) or the
unpacked PyPI sdist (``tests/compat1x/fetch_1x.py`` fetches it). The test files listed in ``TEST_FILES`` are
copied, unmodified, to a temporary directory and run with pytest in this interpreter, with the extra test
requirements of 1.x (``freezegun``, ``tblib``, ``pexpect``) installed into a cache directory. Nothing of 1.x is imported
from the checkout: ``bigflow`` is ours.

``--examples`` also checks 1.x's ``examples_project`` (see ``examples_1x.py``): every workflow run as 1.x's
docs show, ``bigflow build dags``, and the DAGs loaded by Airflow 2 and 3.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from examples_1x import check_examples  # noqa: E402

TEST_FILES = (
    "test/test_workflow.py",
    "test/test_configuration.py",
    "test/test_user_commons/test_labels.py",
    "test/test_user_commons/test_sensor.py",
    "test/test_interactive.py",
    "test/test_job.py",
    "test/test_dataset_manager.py",
    "test/test_dataflow.py",
    "test/testing/test_isolate.py",
    "test/test_resources.py",
    "test/test_commons.py",
)
# Files the tests above import or read (test helpers, fixtures); absent from the PyPI sdist.
SUPPORT = ("test/__init__.py", "test/mixins.py", "test/test_user_commons/__init__.py", "test/testing/__init__.py",
           "test/testing/nonpure.py", "test/resources")
TEST_REQUIREMENTS = ("freezegun==1.5.1", "tblib==3.2.2", "pexpect==4.9.0", "ptyprocess==0.7.0")
CACHE = Path(os.environ.get("BIGFLOW_COMPAT1X_CACHE") or Path.home() / ".cache" / "bigflow-compat1x")
OUTCOMES = ("passed", "failed", "error", "skipped")


def test_requirements() -> Path:
    """A directory holding 1.x's extra test requirements (installed once, with uv, without dependencies)."""
    target = CACHE / "test-requirements"
    marker = target / ".installed"
    if marker.exists() and marker.read_text() == " ".join(TEST_REQUIREMENTS):
        return target
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--python", sys.executable, "--target",
                    str(target), *TEST_REQUIREMENTS], check=True)
    marker.write_text(" ".join(TEST_REQUIREMENTS))
    return target


def copy_tests(checkout: Path, work: Path) -> list[str]:
    """Copy the test files (and whatever support files the checkout has) into ``work``; the files copied."""
    missing = [name for name in TEST_FILES if not (checkout / name).is_file()]
    if len(missing) == len(TEST_FILES):
        raise SystemExit(f"error: {checkout} holds none of the 1.x test files (is it a BigFlow 1.x checkout?)")
    for name in (*TEST_FILES, *SUPPORT):
        source, target = checkout / name, work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():
            shutil.copy2(source, target)
    (work / "test" / "__init__.py").touch()  # the sdist has no test/__init__.py; it is empty in the checkout
    return [name for name in TEST_FILES if name not in missing]


def run_tests(checkout: Path) -> dict[str, dict[str, object]]:
    """``{test file: {"passed": n, "failed": n, "error": n, "skipped": n, "failures": {test: first line}}}``."""
    deps = test_requirements()
    with tempfile.TemporaryDirectory(prefix="bigflow-1x-tests-") as tmp:
        work = Path(tmp)
        files = copy_tests(checkout, work)
        report = work / "report.xml"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(work), str(deps)])}
        env.pop("bf_env", None)
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:bqemulator",
                        "--continue-on-collection-errors", "--rootdir", str(work), "-o", "addopts=", f"--junitxml={report}", *files],
                       cwd=work, env=env, capture_output=True, text=True)
        return {name: counts for name, counts in read_report(report, files).items()}


def read_report(report: Path, files: list[str]) -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {
        name: {**dict.fromkeys(OUTCOMES, 0), "failures": {}} for name in files}
    for case in ET.parse(report).iter("testcase"):
        classname = case.get("classname", "")
        name = next((f for f in files if classname.startswith(f[:-3].replace("/", "."))), None)
        if name is None:  # a file that failed to import is reported with an empty classname
            name = next((f for f in files if f[:-3].replace("/", ".") in (case.get("name") or "")), files[0])
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag
                message = (child.get("message") or "").strip().splitlines()
                if not message or message[0] == "collection failure":  # the import error is the last line
                    message = [line for line in (child.text or "").splitlines() if line.startswith("E ")][-1:]
                if outcome != "skipped":
                    results[name]["failures"][f"{classname.rsplit('.', 1)[-1]}.{case.get('name')}"] = (
                        message[0][:200] if message else "")
        results[name][outcome] += 1
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a BigFlow 1.x checkout or unpacked sdist")
    parser.add_argument("--json", action="store_true", help="print the counts and failures as JSON")
    parser.add_argument("--examples", action="store_true", help="also run and build 1.x's examples_project")
    args = parser.parse_args(argv)
    results = run_tests(args.checkout)
    steps = check_examples(args.checkout) if args.examples else []
    if args.json:
        print(json.dumps({"tests": results, "examples": [vars(step) for step in steps]}, indent=2))
        return 0
    print(f"{'1.x test file':48} {'passed':>6} {'failed':>6} {'error':>6} {'skipped':>7}")
    for name, counts in results.items():
        print(f"{name:48} " + " ".join(f"{counts[o]:>{max(6, len(o))}}" for o in OUTCOMES))
        for test, message in counts["failures"].items():
            print(f"    {test}: {message}")
    for step in steps:
        print(f"{'ok  ' if step.ok else 'FAIL'} {step.command} (exit {step.exit_code}): {step.detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
