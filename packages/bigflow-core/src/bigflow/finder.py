"""Finding a project's workflows without importing the modules that do not define them.

An index in ``.bigflow/cache/workflows.json`` maps each module of the project package, keyed on its file's
mtime and size, to what ``bigflow.static_scan`` reads in it without importing it: the workflow ids of its
``Workflow(workflow_id="...")`` calls, whether it is *dynamic* (its workflows can only be known by importing it)
and, for a module that does not parse, the error with file and line. A lookup imports only the module that
defines the requested id; an unknown id imports the dynamic modules (once per file version: what they define
is indexed too) before it is refused. So no engine is loaded to find, list ids, or refuse a name. An id defined
by two modules is an error naming both.

``listing()`` (``bigflow workflows list``) imports every module, each on its own: one that fails is reported
with its file and line, and the others are still listed. Its records are cached too, for the exact set of file
versions they were made from, the same ``pyproject.toml`` and the same ``bf_*`` variables (a module may build
its workflows from the configuration).
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
from typing import TYPE_CHECKING, Any

from bigflow.errors import BigflowError, UnknownNameError
from bigflow.static_scan import Scan, scan

if TYPE_CHECKING:
    from bigflow.workflow import Workflow

INDEX_VERSION = 2


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


def import_error(module: ModuleFile, error: BaseException, package_dir: Path) -> BigflowError:
    """A one-line error naming the project file and line where importing ``module`` failed (which may be
    another project module it imports)."""
    path, line = module.path, None
    if isinstance(error, SyntaxError) and error.filename:
        path, line = Path(error.filename), error.lineno
    else:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).is_relative_to(package_dir)]
        if frames:
            path, line = Path(frames[-1].filename), frames[-1].lineno
    where = f"{path}, line {line}" if line else str(path)
    message = str(error.msg if isinstance(error, SyntaxError) else error).strip().splitlines()
    detail = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    via = f"{module.path}: " if path != module.path else ""
    return BigflowError(f"cannot import {via}{where}: {detail}")


def workflows_in(module_name: str) -> list[Workflow]:
    """Module-level Workflow instances of an imported module."""
    from bigflow.workflow import Workflow

    module = sys.modules[module_name]
    return [value for value in vars(module).values() if isinstance(value, Workflow)]


@dataclass
class Entry:
    """What the index knows of one module file version."""

    module: ModuleFile
    scan: Scan
    imported: list[str] | None = None  # ids found by importing this version (dynamic modules only)

    @property
    def ids(self) -> list[str]:
        return self.imported if self.imported is not None else list(self.scan.workflows)

    @property
    def undecided(self) -> bool:
        return self.scan.dynamic and self.imported is None and self.scan.error is None
class WorkflowFinder:
    """Locates workflows of one project package, backed by a file-stamp index of static scans."""

    def __init__(self, root: Path, package: str, package_dir: Path, cache_dir: Path | None = None) -> None:
        self.root = root
        self.package = package
        self.package_dir = package_dir
        self.index_path = (cache_dir or root / ".bigflow" / "cache") / "workflows.json"
        self.errors: dict[str, BigflowError] = {}  # module name -> why it could not be imported
        self.problems: list[str] = []  # what else made a listing incomplete (a duplicate id, ...)
        self._entries: dict[str, Entry] | None = None
        self._owners: dict[str, list[Entry]] | None = None  # workflow id -> defining entries (see defining)
        self._listing: dict[str, Any] | None = None
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        if package_dir.parent != root and str(package_dir.parent) not in sys.path:
            sys.path.insert(0, str(package_dir.parent))

    # -- index ------------------------------------------------------------------------------------

    def _read_index(self) -> dict[str, Any]:
        try:
            data = json.loads(self.index_path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION or data.get("package") != self.package:
            return {}
        return data

    def _write_index(self) -> None:
        assert self._entries is not None
        modules = {name: {"stamp": list(e.module.stamp), **e.scan.to_json(), "imported": e.imported}
                   for name, e in self._entries.items()}
        data = {"version": INDEX_VERSION, "package": self.package, "modules": modules, "listing": self._listing}
        try:
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.index_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self.index_path)
        except OSError:
            pass  # a read-only checkout still works, only slower

    def entries(self) -> dict[str, Entry]:
        """Module name -> index entry, scanning (never importing) the modules that changed."""
        if self._entries is not None:
            return self._entries
        data = self._read_index()
        old = data.get("modules", {})
        entries: dict[str, Entry] = {}
        changed = False
        for module in package_modules(self.package_dir, self.package):
            known = old.get(module.name)
            try:
                if known is None or tuple(known["stamp"]) != module.stamp:
                    raise KeyError(module.name)
                entries[module.name] = Entry(module, Scan.from_json(known), known.get("imported"))
            except (KeyError, TypeError, ValueError):
                entries[module.name] = Entry(module, scan(module.path))
                changed = True
        self._entries = entries
        listing = data.get("listing")
        self._listing = listing if isinstance(listing, dict) and listing.get("key") == self._listing_key() else None
        if changed or old.keys() != entries.keys():
            self._write_index()
        return entries

    def _listing_key(self) -> dict[str, Any]:
        """What a listing depends on: every module's version, pyproject.toml's, the ``bf_*`` variables."""
        try:
            stat = (self.root / "pyproject.toml").stat()
            pyproject = [stat.st_mtime_ns, stat.st_size]
        except OSError:
            pyproject = None
        return {"modules": {name: list(e.module.stamp) for name, e in self.entries().items()},
                "pyproject": pyproject,
                "environ": sorted([k, v] for k, v in os.environ.items() if k.lower().startswith("bf_"))}

    def _import(self, entry: Entry) -> list[Workflow] | None:
        """The module's workflows, or None (and the error recorded) when it does not import."""
        name = entry.module.name
        if entry.scan.error:
            self.errors[name] = BigflowError(entry.scan.error)
            return None
        if name in self.errors:
            return None
        try:
            importlib.import_module(name)
        except BaseException as error:  # noqa: BLE001 - user code may raise anything at import
            if isinstance(error, KeyboardInterrupt):
                raise
            self.errors[name] = import_error(entry.module, error, self.package_dir)
            return None
        return workflows_in(name)

    def _decide(self) -> None:
        """Import the dynamic modules not imported at their current version, and index what they define."""
        changed = False
        for entry in self.entries().values():
            if entry.undecided:
                found = self._import(entry)
                if found is not None:
                    entry.imported = sorted({w.workflow_id for w in found if self._home(w) == entry.module.name})
                    changed = True
                    self._owners = None
        if changed:
            self._write_index()

    def _home(self, workflow: Workflow) -> str | None:
        """The module that defines (not merely imports) this workflow instance."""
        owners = [name for name in self.entries() if name in sys.modules and workflow in workflows_in(name)]
        static = [name for name in owners if workflow.workflow_id in self.entries()[name].scan.workflows]
        return (static or owners or [None])[0]

    def defining(self, workflow_id: str) -> list[Entry]:
        """The modules that define ``workflow_id`` (importing dynamic modules only when no static one does)."""
        found = self._owners_of(workflow_id)
        if not found and any(e.undecided for e in self.entries().values()):
            self._decide()
            found = self._owners_of(workflow_id)
        return found

    def _owners_of(self, workflow_id: str) -> list[Entry]:
        """The entries whose ids hold ``workflow_id``, from a map built once per index state (``all`` looks up
        every id: one scan of the entries instead of one per id)."""
        if self._owners is None:
            self._owners = {}
            for entry in self.entries().values():
                for known in entry.ids:
                    self._owners.setdefault(known, []).append(entry)
        return self._owners.get(workflow_id, [])

    def _where(self, entry: Entry, workflow_id: str) -> str:
        line = entry.scan.workflows.get(workflow_id)
        return f"{entry.module.path}, line {line}" if line else str(entry.module.path)

    # -- lookups ----------------------------------------------------------------------------------

    def locate(self, workflow_id: str) -> Entry:
        """The module that defines this id, without importing it; an unknown id or one defined twice is an
        error (a command checks this first, before any costlier set-up)."""
        found = self.defining(workflow_id)
        if len(found) > 1:
            raise BigflowError(f"workflow id {workflow_id!r} is defined twice: in {self._where(found[0], workflow_id)} "
                               f"and in {self._where(found[1], workflow_id)}; rename one of them")
        if not found:
            raise self.unknown(workflow_id, self.all_ids())
        return found[0]

    def find(self, workflow_id: str) -> Workflow:
        """The workflow with this id, importing only the module that defines it."""
        entry = self.locate(workflow_id)
        name = entry.module.name
        workflows = self._import(entry)
        if workflows is None:
            raise self.errors[name]
        for workflow in workflows:
            if workflow.workflow_id == workflow_id:
                return workflow
        raise BigflowError(f"{self._where(entry, workflow_id)} calls Workflow({workflow_id!r}, ...), but after "
                           f"importing it no module-level variable of {name} holds that workflow")

    def all(self) -> list[Workflow]:
        """Every workflow of the project (imports every module); a module failing to import and duplicate
        ids are errors (a workflow silently missing from a build would be undeployed)."""
        found: dict[str, Workflow] = {}
        for workflow_id in self.all_ids():
            found[workflow_id] = self.find(workflow_id)
        for entry in self.entries().values():
            self._import(entry)
        for error in self.errors.values():
            raise error
        return [found[i] for i in sorted(found)]

    def all_ids(self) -> list[str]:
        """Every workflow id, without importing modules whose workflows the index knows."""
        self._decide()
        return sorted({i for e in self.entries().values() for i in e.ids})

    def broken(self) -> list[str]:
        """Why each module that failed to import (or to parse) did so, and the other problems of a listing."""
        return list(dict.fromkeys([str(self.errors[name]) for name in self.entries() if name in self.errors]
                                  + self.problems))

    def listing(self, describe) -> list[dict[str, Any]]:
        """``describe(workflow) -> dict`` of every workflow (``module`` and ``line`` added), cached for this
        exact set of file versions; a module that fails to import lists its statically known workflows with
        ``"broken"``: the error (also in ``self.errors``)."""
        self.entries()
        if self._listing is not None:
            return self._listing["records"]
        records = []
        for workflow_id in self.all_ids():
            entries = self.defining(workflow_id)
            where = {"module": str(entries[0].module.path.relative_to(self.root)),
                     "line": entries[0].scan.workflows.get(workflow_id)}
            try:
                records.append({**describe(self.find(workflow_id)), **where})
            except BigflowError as error:
                records.append({"workflow_id": workflow_id, **where, "broken": str(error)})
                self.problems.append(str(error))
        for entry in self.entries().values():
            self._import(entry)  # a module defining no workflow may still be broken: say so
        if not self.broken():
            self._listing = {"key": self._listing_key(), "records": records}
            self._write_index()
        return records

    def unknown(self, workflow_id: str, known: list[str]) -> BigflowError:
        import difflib

        close = difflib.get_close_matches(workflow_id, known, n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        elif known:
            hint = f"; known: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
        else:
            hint = f"; no workflow found in package {self.package!r}"
        broken = list(dict.fromkeys([e.scan.error for e in self.entries().values() if e.scan.error]
                                    + [str(e) for e in self.errors.values()]))
        note = f" ({len(broken)} module(s) failed to import: {broken[0]})" if broken else ""
        return UnknownNameError(f"unknown workflow {workflow_id!r}{hint}{note}")
