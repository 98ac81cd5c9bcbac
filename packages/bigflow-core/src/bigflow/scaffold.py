"""Rendering file templates shipped in ``bigflow/templates`` into new directories."""

from __future__ import annotations

import keyword
import re
import shutil
import tempfile
from pathlib import Path
from string import Template

from bigflow.errors import BigflowError
from bigflow.version import PLUGIN_API_VERSION, __version__

TEMPLATES = Path(__file__).parent / "templates"
_DIST_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*([-_.][A-Za-z0-9]+)*$")


def render_files(template: str, values: dict[str, str]) -> dict[str, str]:
    """The files of ``templates/<template>`` as ``{relative_path: text}``.

    ``__module__`` in a path becomes ``values['module']``; ``*.tmpl`` files are rendered with ``${key}``
    (write ``$$`` for a literal ``$``) and lose their suffix.
    """
    source = TEMPLATES / template
    files: dict[str, str] = {}
    for path in sorted(source.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = str(path.relative_to(source)).replace("__module__", values["module"])
        text = path.read_text()
        files[relative.removesuffix(".tmpl")] = Template(text).substitute(values) if path.suffix == ".tmpl" else text
    return files


def check_target(target: Path) -> Path:
    """``target`` resolved; a one-line error when it exists and is not an empty directory."""
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BigflowError(f"{target} already exists and is not empty; choose another directory")
    return target


def write_tree(target: Path, files: dict[str, str], executable: tuple[str, ...] = ()) -> Path:
    """Write ``{relative_path: text}`` into a new directory atomically: all files appear, or none."""
    target = check_target(target)
    staging = Path(tempfile.mkdtemp(prefix=".bigflow-new-", dir=target.parent if target.parent.exists() else None))
    try:
        for relative, text in files.items():
            destination = staging / relative
            if staging not in destination.resolve().parents:
                raise BigflowError(f"refusing to write {relative!r} outside the new directory")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text)
            if relative in executable:
                destination.chmod(0o755)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def render_tree(template: str, target: Path, values: dict[str, str]) -> Path:
    """Render ``templates/<template>`` into ``target`` atomically: all files appear, or none."""
    check_target(target)
    return write_tree(target, render_files(template, values))


def render_plugin(name: str, target: Path) -> Path:
    """Scaffold a plugin distribution ``name`` (its module is the name with ``-`` replaced by ``_``)."""
    if not _DIST_NAME.match(name):
        raise BigflowError(
            f"invalid plugin name {name!r}: use letters, digits and single '-', e.g. 'bigflow-acme'"
        )
    module = re.sub(r"[-.]+", "_", name).lower()
    short = module.removeprefix("bigflow_") or module
    if keyword.iskeyword(module):
        raise BigflowError(f"invalid plugin name {name!r}: {module!r} is a Python keyword")
    major = int(PLUGIN_API_VERSION.split(".")[0])
    core_major, core_minor = (int(x) for x in __version__.split(".")[:2])
    values = {
        "name": name,
        "module": module,
        "short": short.replace("_", "-"),
        "job_class": "".join(part.title() for part in short.split("_")) + "Job",
        "target_class": "".join(part.title() for part in short.split("_")) + "Target",
        "setting": f"{short}_dir",
        "api_major": str(major),
        "api_next": str(major + 1),
        "core_floor": f"{core_major}.{core_minor}",
        "core_ceiling": str(core_major + 1),
    }
    return render_tree("plugin", target, values)
