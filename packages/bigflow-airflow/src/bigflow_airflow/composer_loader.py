# The Airflow DAG loader of one bigflow project on Cloud Composer, written by `bigflow deploy composer`.
# Do not edit: the next deploy replaces it. (Airflow parses this file: it defines the project's DAGs.)
#
# Each deploy uploads its DAG files to .bigflow/releases/<release>/ (names ending in .src, which Airflow never
# parses), then switches by rewriting ONE object, .bigflow/current.json. This file defines every DAG of the
# release current.json names, all from one parse, so Airflow sees a deploy as one change. While the new
# release has not fully reached this machine (the bucket is synced file by file), or a file does not match
# its digest, it defines the previous release instead: never a mix of the two. A DAG whose file of an older
# deploy is still beside this loader is left to that file (no DAG is defined twice while a deploy moves).
import hashlib
import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_STATE = os.path.join(_HERE, ".bigflow")


def _sources(release):
    """{path: bytes} of every DAG file of the release, or None when one is missing or not the deployed one."""
    folder = os.path.join(_STATE, "releases", release["release"])
    sources = {}
    for name, digest in sorted(release["files"].items()):
        if os.path.exists(os.path.join(_HERE, name)):
            continue
        path = os.path.join(folder, name + ".src")
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError:
            return None
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            return None
        sources[path] = data
    return sources


def _load():
    with open(os.path.join(_STATE, "current.json"), "rb") as file:
        pointer = json.load(file)
    for release in (pointer, pointer.get("previous")):
        sources = _sources(release) if release else None
        if sources is not None:
            return sources
    raise ImportError(f"bigflow: release {pointer['release']} is not complete in {_STATE} yet")


for _path, _data in _load().items():
    exec(compile(_data, _path, "exec"), {"__name__": __name__, "__file__": _path})  # noqa: S102 - our DAG files
