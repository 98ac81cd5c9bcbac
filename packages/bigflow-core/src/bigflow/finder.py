"""Finding a project's workflows without importing every module on every call.

An index in ``.bigflow/cache/workflows.json`` maps each module of the project package to the workflow ids it
defines, keyed on the file's mtime and size. A lookup re-imports only modules that changed since they were
indexed, then imports the one module that defines the requested workflow. When an id is not found, every
module is imported once more before the id is declared unknown, so a stale index never hides a workflow.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bigflow.errors import BigflowError

if TYPE_CHECKING:
    from bigflow.workflow import Workflow

INDEX_VERSION = 1


@dataclass(frozen=True)
class ModuleFile:
    name: str  # dotted module name
    path: Path
    stamp: tuple[int, int]  # (mtime_ns, size)


def package_modules(package_dir: Path, package: str) -> Iterator[ModuleFile]:
    """Every ``.py`` module below the package directory, in a stable order."""
    stack = [(package_dir, package)]
    while stack:
        directory, dotted = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            raise BigflowError(f"project package directory {directory} does not exist") from None
        subdirs = []
        for entry in entries:
            if entry.is_dir() and entry.name.isidentifier() and (Path(entry.path) / "__init__.py").exists():
                subdirs.append((Path(entry.path), f"{dotted}.{entry.name}"))
            elif entry.name.endswith(".py") and entry.is_file():
                stem = entry.name[:-3]
                if not stem.isidentifier():
                    continue
                stat = entry.stat()
                name = dotted if stem == "__init__" else f"{dotted}.{stem}"
                yield ModuleFile(name, Path(entry.path), (stat.st_mtime_ns, stat.st_size))
        stack.extend(reversed(subdirs))


def import_error(module: ModuleFile, error: BaseException) -> BigflowError:
    """A one-line error naming the project file (and line) that failed to import."""
    line = ""
    if isinstance(error, SyntaxError) and error.lineno:
        line = f", line {error.lineno}"
    else:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == module.path]
        if frames:
            line = f", line {frames[-1].lineno}"
    message = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    return BigflowError(f"cannot import {module.path}{line}: {detail}")


def workflows_in(module_name: str) -> list[Workflow]:
    """Module-level Workflow instances of an imported module."""
    from bigflow.workflow import Workflow

    module = sys.modules[module_name]
    return [value for value in vars(module).values() if isinstance(value, Workflow)]


class WorkflowFinder:
    """Locates workflows of one project package, backed by a file-stamp index."""

    def __init__(self, root: Path, package: str, package_dir: Path, cache_dir: Path | None = None) -> None:
        self.root = root
        self.package = package
        self.package_dir = package_dir
        self.index_path = (cache_dir or root / ".bigflow" / "cache") / "workflows.json"
        self.errors: dict[str, BigflowError] = {}  # module name -> why it could not be imported
        self.files: dict[str, ModuleFile] = {}
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        if package_dir.parent != root and str(package_dir.parent) not in sys.path:
            sys.path.insert(0, str(package_dir.parent))

    # -- index ------------------------------------------------------------------------------------

    def _read_index(self) -> dict[str, dict]:
        try:
            data = json.loads(self.index_path.read_text())
        except (OSError, ValueError):
            return {}
        if data.get("version") != INDEX_VERSION or data.get("package") != self.package:
            return {}
        return data.get("modules", {})

    def _write_index(self, modules: dict[str, dict]) -> None:
        try:
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.index_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": INDEX_VERSION, "package": self.package, "modules": modules}))
            tmp.replace(self.index_path)
        except OSError:
            pass  # a read-only checkout still works, only slower

    def _import(self, module: ModuleFile) -> list[str]:
        try:
            importlib.import_module(module.name)
        except BaseException as error:  # noqa: BLE001 - user code may raise anything at import
            if isinstance(error, KeyboardInterrupt):
                raise
            self.errors[module.name] = import_error(module, error)
            return []
        return [w.workflow_id for w in workflows_in(module.name)]

    def index(self, *, everything: bool = False) -> dict[str, list[str]]:
        """Module name -> workflow ids, importing the modules that changed (all of them with ``everything``)."""
        old = {} if everything else self._read_index()
        fresh: dict[str, dict] = {}
        changed = False
        for module in package_modules(self.package_dir, self.package):
            self.files[module.name] = module
            entry = old.get(module.name)
            if entry is None or tuple(entry["stamp"]) != module.stamp or entry.get("error"):
                ids = self._import(module)
                if module.name in self.errors and entry is not None:
                    ids = entry["workflows"]  # what it defined when it last imported: name the import error
                entry = {"stamp": list(module.stamp), "workflows": ids,
                         "error": str(self.errors[module.name]) if module.name in self.errors else None}
                changed = True
            fresh[module.name] = entry
        if changed or fresh.keys() != old.keys():
            self._write_index(fresh)
        return {name: entry["workflows"] for name, entry in fresh.items()}

    # -- lookups ----------------------------------------------------------------------------------

    def find(self, workflow_id: str) -> Workflow:
        """The workflow with this id; imports only its module when the index is current."""
        for everything in (False, True):
            for module_name, ids in self.index(everything=everything).items():
                if workflow_id in ids:
                    if module_name not in sys.modules:
                        self._import(self.files[module_name])
                    if module_name in self.errors:
                        raise self.errors[module_name]
                    for workflow in workflows_in(module_name):
                        if workflow.workflow_id == workflow_id:
                            return workflow
        raise self.unknown(workflow_id, self.all_ids())

    def all(self) -> list[Workflow]:
        """Every workflow of the project (imports every module); a module failing to import and duplicate
        ids are errors (a workflow silently missing from a build would be undeployed)."""
        self.index(everything=True)
        for error in self.errors.values():
            raise error
        found: dict[str, Workflow] = {}
        origin: dict[str, str] = {}
        for module_name in sorted(m for m in sys.modules if m == self.package or m.startswith(self.package + ".")):
            for workflow in workflows_in(module_name):
                other = found.get(workflow.workflow_id)
                if other is not None and other is not workflow:
                    raise BigflowError(
                        f"workflow id {workflow.workflow_id!r} is defined twice: in {origin[workflow.workflow_id]} "
                        f"and in {module_name}"
                    )
                found.setdefault(workflow.workflow_id, workflow)
                origin.setdefault(workflow.workflow_id, module_name)
        return sorted(found.values(), key=lambda w: w.workflow_id)

    def all_ids(self) -> list[str]:
        return sorted({i for ids in self.index().values() for i in ids})

    def unknown(self, workflow_id: str, known: list[str]) -> BigflowError:
        import difflib

        close = difflib.get_close_matches(workflow_id, known, n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        elif known:
            hint = f"; known: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
        else:
            hint = f"; no workflow found in package {self.package!r}"
        broken = f" ({len(self.errors)} module(s) failed to import: {next(iter(self.errors.values()))})" \
            if self.errors else ""
        return BigflowError(f"unknown workflow {workflow_id!r}{hint}{broken}")
