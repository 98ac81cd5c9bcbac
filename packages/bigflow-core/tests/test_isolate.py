"""bigflow.testing.isolate (BigFlow 1.x's ForkIsolateMixin/SpawnIsolateMixin): each test in its own process."""

from __future__ import annotations

import importlib
import io
import sys
import unittest

import pytest

CASES = '''
import os, time, unittest
from bigflow.testing import ForkIsolateMixin, SpawnIsolateMixin

STATE = []


class Cases:  # listed before the mixin, so its setUpParent overrides the mixin's
    timeout = 60

    @classmethod
    def setUpClass(cls):
        cls.parent_pid = os.getpid()  # a class attribute set after the tests were made: spawn carries it over

    def setUpParent(self):
        self.parent_mark = "set in the parent"

    def test_changes_state(self):
        STATE.append(os.getpid())
        self.assertNotEqual(os.getpid(), self.parent_pid)
        self.assertEqual(self.parent_mark, "set in the parent")

    def test_fails(self):
        self.fail("fail-ok")

    def test_errors(self):
        raise KeyError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass


class Forked(Cases, ForkIsolateMixin, unittest.TestCase):
    pass


class Spawned(Cases, SpawnIsolateMixin, unittest.TestCase):
    pass


class Hangs(ForkIsolateMixin, unittest.TestCase):
    timeout = 1

    def test_sleeps(self):
        time.sleep(60)
'''


@pytest.fixture
def cases(tmp_path, monkeypatch):
    (tmp_path / "isolated_cases.py").write_text(CASES)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("isolated_cases")
    sys.modules.pop("isolated_cases", None)


def run(test_class) -> unittest.TestResult:
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(test_class)
    return unittest.TextTestRunner(stream=io.StringIO()).run(suite)


@pytest.mark.parametrize("name", ["Forked", "Spawned"])
def test_each_test_runs_in_its_own_process_and_reports_back(cases, name):
    result = run(getattr(cases, name))
    assert result.testsRun == 4
    assert [(test.id().rsplit(".", 1)[-1], "fail-ok" in text) for test, text in result.failures] == [("test_fails", True)]
    assert [(test.id().rsplit(".", 1)[-1], "KeyError: 'boom'" in text) for test, text in result.errors] == \
        [("test_errors", True)]
    assert [reason for _, reason in result.skipped] == ["not today"]
    assert cases.STATE == []  # the child's changes stay in the child


def test_a_test_outliving_its_timeout_is_killed_and_fails(cases):
    result = run(cases.Hangs)
    (_, text), = result.failures
    assert "the isolated test process was still running after 1 s; it was killed" in text
