"""Finding workflows without importing the modules that do not define them; broken and duplicate modules;
``bigflow workflows list`` / ``show``."""

import json
import textwrap
from pathlib import Path

import pytest
from test_run_command import bigflow, one_line_error, write_project

from bigflow.static_scan import scan_text

WORKFLOW = "import bigflow\nfrom bigflow.jobs import PythonJob\n\ndef ok(context):\n    return 'ok'\n\n"


def marker_module(marker: Path, text: str) -> str:
    """A module that records its import in ``marker``, then runs ``text``."""
    return f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n{WORKFLOW}{text}"


@pytest.mark.parametrize(
    ("text", "workflows", "dynamic"),
    [
        ("from bigflow import Workflow\nw = Workflow(workflow_id='a', definition=[])\n", {"a": 2}, False),
        ("import bigflow\n\n\nw = bigflow.Workflow('b', [])\n", {"b": 4}, False),
        ("from bigflow.workflow import Workflow as W\nw = W('c', [])\n", {"c": 2}, False),
        ("import bigflow\nw = bigflow.Workflow('x' + str(1), [])\n", {}, True),  # a computed id
        ("import bigflow\ndef make(i):\n    return bigflow.Workflow('made', [])\n", {}, True),  # a factory
        ("from proj.factory import make\nw = make('z')\n", {}, True),  # made elsewhere
        ('"""Doc."""\nimport os\nLIMIT = 10\nNAMES = ("a", "b")\n\ndef f():\n    return os.sep\n', {}, False),
        ("import logging\nlog = logging.getLogger(__name__)\n", {}, True),  # could fail: import it to know
        ("import bigflow\nfrom proj.base import DailyWorkflow\na = bigflow.Workflow('a', [])\nb = DailyWorkflow('b')\n",
         {"a": 3}, True),  # a subclass
    ],
)
def test_static_scan(text, workflows, dynamic):
    found = scan_text(text, Path("m.py"))
    assert (found.workflows, found.dynamic, found.error) == (workflows, dynamic, None)


def test_static_scan_of_a_syntax_error_names_file_and_line_and_the_ids_it_mentions():
    found = scan_text("import bigflow\nw = bigflow.Workflow(workflow_id='spark_orders',\n  definition=[)\n",
                      Path("/p/spark_workflow.py"))
    assert found.error.startswith("cannot import /p/spark_workflow.py, line 3: SyntaxError: ")
    assert found.workflows == {"spark_orders": 2}


def test_only_the_defining_module_is_imported(tmp_path):
    marker = tmp_path / "imported.txt"
    root = write_project(
        tmp_path / "p",
        a=marker_module(marker, "wf = bigflow.Workflow('wf_a', [PythonJob('j', ok)])\n"),
        b=marker_module(marker, "wf = bigflow.Workflow('wf_b', [PythonJob('j', ok)])\n"),
    )
    assert bigflow(root, "run", "-w", "wf_b").returncode == 0
    assert bigflow(root, "workflows", "show", "wf_b").returncode == 0
    assert marker.read_text() == "proj.b\nproj.b\n"
    line = one_line_error(bigflow(root, "run", "-w", "nothing_like_it"), 2)
    assert line == "Error: unknown workflow 'nothing_like_it'; known: wf_a, wf_b"
    assert marker.read_text() == "proj.b\nproj.b\n"  # refused without importing anything


def test_a_syntax_error_is_reported_at_its_file_and_line_and_stops_nothing_else(tmp_path):
    spark = "wf = bigflow.Workflow(workflow_id='spark_orders', definition=[PythonJob('j', ok)]\n"  # no ')'
    root = write_project(
        tmp_path,
        hello=WORKFLOW + "wf = bigflow.Workflow('hello', [PythonJob('j', ok)])\n",
        spark_workflow=WORKFLOW + spark,
        mixed_workflow=WORKFLOW + "from proj import hello, spark_workflow\n"
                                  "wf = bigflow.Workflow('mixed', [PythonJob('m', ok)])\n",
    )
    spark_file = root / "proj" / "spark_workflow.py"
    line = one_line_error(bigflow(root, "run", "-w", "spark_orders"))
    assert line.startswith(f"Error: cannot import {spark_file}, line 7: SyntaxError: "), line
    line = one_line_error(bigflow(root, "run", "-w", "mixed"))
    assert line.startswith(f"Error: cannot import {root / 'proj' / 'mixed_workflow.py'}: {spark_file}, line 7: "
                           "SyntaxError: "), line
    assert bigflow(root, "run", "-w", "hello").returncode == 0
    listed = bigflow(root, "workflows", "list", "--json")
    assert listed.returncode == 1 and f"{spark_file}, line 7: SyntaxError" in listed.stderr
    records = {r["workflow_id"]: r for r in json.loads(listed.stdout)}
    assert records["hello"]["jobs"] == ["j"]
    assert records["spark_orders"]["module"] == "proj/spark_workflow.py" and records["spark_orders"]["line"] == 7
    assert f"{spark_file}, line 7: SyntaxError" in records["spark_orders"]["broken"]
    assert f"{spark_file}, line 7: SyntaxError" in records["mixed"]["broken"]


def test_a_workflow_id_defined_twice_fails_every_command_that_picks_one(tmp_path):
    root = write_project(
        tmp_path,
        first=WORKFLOW + "wf = bigflow.Workflow('dup', [PythonJob('j', ok)])\n",
        second=WORKFLOW + "\nwf = bigflow.Workflow(workflow_id='dup', definition=[PythonJob('k', ok)])\n",
    )
    expected = (f"Error: workflow id 'dup' is defined twice: in {root / 'proj' / 'first.py'}, line 7 "
                f"and in {root / 'proj' / 'second.py'}, line 8; rename one of them")
    for args in (["run", "-w", "dup"], ["run", "-j", "dup.j"], ["workflows", "show", "dup"],
                 ["workflows", "list"], ["logs", "-w", "dup"]):
        assert one_line_error(bigflow(root, *args)) == expected, args


def test_workflows_made_by_a_factory_are_found_by_importing(tmp_path):
    root = write_project(
        tmp_path,
        factory=WORKFLOW + "def make(name):\n    return bigflow.Workflow(name, [PythonJob('j', ok)])\n",
        users="from proj.factory import make\nfirst = make('made_1')\nsecond = make('made_2')\n",
    )
    assert bigflow(root, "run", "-w", "made_2").returncode == 0
    listed = json.loads(bigflow(root, "workflows", "list", "--json").stdout)
    assert [(r["workflow_id"], r["module"]) for r in listed] == [("made_1", "proj/users.py"),
                                                                ("made_2", "proj/users.py")]


def test_the_listing_is_cached_for_the_exact_file_versions(tmp_path):
    marker = tmp_path / "imported.txt"
    root = write_project(tmp_path / "p", a=marker_module(marker, "wf = bigflow.Workflow('wf', [PythonJob('j', ok)])\n"))
    first = bigflow(root, "workflows", "list")
    assert bigflow(root, "workflows", "list").stdout == first.stdout
    assert marker.read_text() == "proj.a\n"  # the second listing imported nothing
    bigflow(root, "workflows", "list", env={"bf_env": "dev"})
    assert marker.read_text() == "proj.a\nproj.a\n"  # another configuration: listed anew
    (root / "proj" / "b.py").write_text(WORKFLOW + "wf = bigflow.Workflow('wf_b', [PythonJob('j', ok)])\n")
    assert [row.split()[0] for row in bigflow(root, "workflows", "list").stdout.splitlines()[1:]] == ["wf", "wf_b"]


GRAPH = WORKFLOW + textwrap.dedent("""
    a, b, c = PythonJob('extract', ok), PythonJob('clean', ok, retry_count=2, retry_pause_sec=5), PythonJob('load', ok)
    d = PythonJob('report', ok, execution_timeout_sec=60)
    wf = bigflow.Workflow('etl', bigflow.Definition({a: [b, c], b: [d], c: [d]}), schedule_interval='0 1 * * *')
""")


def test_workflows_show_draws_the_job_graph(tmp_path):
    root = write_project(tmp_path, etl=GRAPH)
    text = bigflow(root, "workflows", "show", "etl")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "etl (schedule 0 1 * * *, depends on past)",
        "└── extract [PythonJob, retries 3 x 60s, timeout 10800s]",
        "    ├── clean [PythonJob, retries 2 x 5s, timeout 10800s]",
        "    │   └── report [PythonJob, retries 3 x 60s, timeout 60s]",
        "    └── load [PythonJob, retries 3 x 60s, timeout 10800s]",
        "        └── -> report (see above)",
    ]
    record = json.loads(bigflow(root, "workflows", "show", "etl", "--format", "json").stdout)
    assert record["edges"] == [["extract", "clean"], ["extract", "load"], ["clean", "report"], ["load", "report"]]
    assert record["job_types"] == {"extract": "PythonJob", "clean": "PythonJob", "load": "PythonJob",
                                   "report": "PythonJob"}
    assert record["job_details"][1] == {"id": "clean", "type": "PythonJob", "upstream": ["extract"],
                                        "retry_count": 2, "retry_pause_sec": 5, "execution_timeout_sec": 10800}
    listed = json.loads(bigflow(root, "workflows", "list", "--json").stdout)
    assert listed[0]["edges"] == record["edges"] and listed[0]["job_types"] == record["job_types"]
    mermaid = bigflow(root, "workflows", "show", "etl", "-f", "mermaid").stdout.splitlines()
    assert mermaid[0] == "flowchart LR" and "    j0 --> j1" in mermaid and "    j2 --> j3" in mermaid
    assert mermaid[1] == '    j0["extract<br/><small>PythonJob, retries 3 x 60s, timeout 10800s</small>"]'
    dot = bigflow(root, "workflows", "show", "etl", "-f", "dot").stdout
    assert dot.startswith('digraph "etl" {') and '    "load" -> "report";\n}' in dot
    assert one_line_error(bigflow(root, "workflows", "show", "elt"), 2) == (
        "Error: unknown workflow 'elt'; did you mean 'etl'?")
