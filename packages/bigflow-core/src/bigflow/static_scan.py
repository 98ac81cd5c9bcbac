"""What a project module defines, read with ``ast`` without importing it (so without loading any engine).

``scan(path)`` finds the module-level ``Workflow(workflow_id="...")`` calls (also ``bigflow.Workflow``, an
alias of it, or the id as first positional argument) and their lines. A module whose workflows cannot be
read this way is ``dynamic``: a ``Workflow(...)`` call with a computed id or inside a function (a factory),
or no ``Workflow(...)`` call at all but module-level code beyond imports, definitions and literal
constants (a call, a name lookup: anything that could make a workflow, or fail). Only dynamic modules need
importing to know their workflows. A module that does not parse is reported with its file and line.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_LITERAL_ID = re.compile(r"""workflow_id\s*=\s*["']([^"']+)["']""")


@dataclass
class Scan:
    workflows: dict[str, int] = field(default_factory=dict)  # workflow id -> line of its Workflow(...) call
    dynamic: bool = False
    error: str | None = None  # why the module does not parse, naming file and line

    def to_json(self) -> dict:
        return {"workflows": self.workflows, "dynamic": self.dynamic, "error": self.error}

    @classmethod
    def from_json(cls, data: dict) -> Scan:
        return cls(dict(data["workflows"]), bool(data["dynamic"]), data.get("error"))


def _workflow_names(tree: ast.Module) -> set[str]:
    """Names a ``Workflow`` is called by in this module (``Workflow`` and its import aliases)."""
    names = {"Workflow"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname for alias in node.names if alias.name == "Workflow" and alias.asname)
    return names


def _is_workflow_call(node: ast.AST, names: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id in names) or (
        isinstance(func, ast.Attribute) and func.attr == "Workflow")


def _literal_id(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "workflow_id":
            value = keyword.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


class _Visitor(ast.NodeVisitor):
    def __init__(self, names: set[str], scan: Scan) -> None:
        self.names = names
        self.scan = scan
        self.depth = 0  # > 0 inside a function or lambda body

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name.endswith("Workflow") and not _is_workflow_call(node, self.names):
            self.scan.dynamic = True  # a subclass of Workflow, perhaps: import the module to know
        elif _is_workflow_call(node, self.names):
            workflow_id = _literal_id(node)
            if self.depth or workflow_id is None:
                self.scan.dynamic = True
            else:
                self.scan.workflows.setdefault(workflow_id, node.lineno)
        self.generic_visit(node)


_LITERAL_NODES = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.expr_context, ast.UnaryOp, ast.BinOp,
                  ast.operator, ast.unaryop)
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)


def _inert(statement: ast.stmt) -> bool:
    """An import, a definition, a docstring or a constant: nothing at module level that could make a workflow."""
    if isinstance(statement, _DEFINITIONS):
        return True
    value = statement.value if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign)) else statement
    return value is None or all(isinstance(node, _LITERAL_NODES) for node in ast.walk(value))


def scan_text(text: str, path: Path) -> Scan:
    scan = Scan()
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        line = f", line {error.lineno}" if error.lineno else ""
        scan.error = f"cannot import {path}{line}: SyntaxError: {error.msg}"
        scan.workflows = {m.group(1): text.count("\n", 0, m.start()) + 1 for m in _LITERAL_ID.finditer(text)}
        return scan
    visitor = _Visitor(_workflow_names(tree), scan)
    visitor.visit(tree)
    if not scan.workflows and not all(map(_inert, tree.body)):
        scan.dynamic = True
    return scan


def scan(path: Path) -> Scan:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return Scan(error=f"cannot read {path}: {error}")
    return scan_text(text, path)
