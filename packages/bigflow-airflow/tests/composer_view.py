"""What Airflow would see of a project deployed to a bucket: the bucket's ``dags/<project>/`` copied to a
folder (as Composer syncs it), then the DAG files found there — each per-DAG ``.py`` file, plus what the real
loader (``bigflow_dags.py``, run as is) defines. Names map to the bytes of the DAG file each DAG comes from."""

from __future__ import annotations

import builtins
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LOADER = "bigflow_dags.py"


def sync(bucket, prefix: str, folder: Path) -> None:
    def copy(blob) -> None:
        target = folder / blob.name[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.download_as_bytes())

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(copy, bucket.client.list_blobs(bucket.name, prefix=prefix)))


def loaded(folder: Path) -> dict[str, bytes]:
    """{DAG file name: bytes} the loader in ``folder`` executes (it raises when it can load nothing)."""
    defined: dict[str, bytes] = {}

    def capture(code, namespace):
        path = Path(namespace["__file__"])
        name = path.name.removesuffix(".src")
        assert name not in defined, f"{name} defined twice"
        defined[name] = path.read_bytes()

    loader = folder / LOADER
    namespace = {"__name__": "loader", "__file__": str(loader), "__builtins__": {**vars(builtins), "exec": capture}}
    exec(compile(loader.read_bytes(), str(loader), "exec"), namespace)  # noqa: S102 - the loader under test
    return defined


def visible(bucket, project: str = "shop") -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sync(bucket, f"dags/{project}/", folder)
        files = {p.name: p.read_bytes() for p in folder.glob("*.py") if p.name != LOADER}
        if (folder / LOADER).exists():
            from_loader = loaded(folder)
            assert not set(files) & set(from_loader), "a DAG defined by both its own file and the loader"
            files.update(from_loader)
        return files
