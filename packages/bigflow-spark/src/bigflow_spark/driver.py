"""The Spark driver program of a PySparkJob: runs inside the Spark driver process (local subprocess,
standalone client, Dataproc), builds the SparkSession and the job context, calls the user's driver and
reports the outcome (a one-line error naming the user's frame, or the driver's return value).

Only the standard library is imported at module level: the parent process imports this module for
:func:`job_context` without paying for Spark.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import runpy
import sys
import sysconfig
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

RESULT_MARKER = "bigflow-spark-result: "
SESSION_MARKER = "bigflow-spark-session: started"  # on stderr: a local parent's progress line moves on

_current_context: Any = None


def job_context() -> Any:
    """The ``JobContext`` of the PySparkJob whose driver is running (for drivers given as ``.py`` files)."""
    if _current_context is None:
        from bigflow.api import BigflowError

        raise BigflowError("bigflow_spark.job_context() is only available inside a PySparkJob driver")
    return _current_context


def main(spec_json: str) -> None:
    """Entry point of the generated driver file: run the spec, exit 0 on success and 1 on failure."""
    spec = json.loads(spec_json)
    if spec.get("parent_pid"):
        _die_with_parent(spec["parent_pid"])
    os.environ.update(spec.get("environ", {}))
    outcome = run(spec)
    sys.exit(0 if outcome["ok"] else 1)


def _die_with_parent(parent_pid: int) -> None:
    """Linux: get SIGTERM when the bigflow process that started this driver dies, so Spark stops too (the
    JVM exits when this process's pipe to it closes)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before prctl
        sys.exit(1)


def run(spec: Mapping[str, Any], spark: Any = None) -> dict[str, Any]:
    """Run the driver of ``spec``; with ``spark`` given, use that session and leave it running."""
    own_session = spark is None
    try:
        if own_session:
            spark = build_session(spec)
        for path in spec.get("py_files", []):
            spark.sparkContext.addPyFile(path)
        value = call_driver(spec, spark, make_context(spec["context"]))
        outcome = {"ok": True, "value": _jsonable(value)}
    except BaseException as error:  # noqa: BLE001 - reported to the parent, whatever it is
        traceback.print_exc()
        outcome = {"ok": False, **describe(error)}
    finally:
        if own_session and spark is not None:
            spark.stop()
    _report(spec, outcome)
    return outcome


def build_session(spec: Mapping[str, Any]) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(spec["app_name"])
    if spec.get("master"):
        builder = builder.master(spec["master"])
    for key, value in spec.get("spark_conf", {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    print(SESSION_MARKER, file=sys.stderr, flush=True)
    return session


def make_context(data: Mapping[str, Any]) -> Any:
    from bigflow.api import JobContext

    return JobContext.make(runtime=datetime.fromisoformat(data["runtime"]), workflow_id=data.get("workflow_id"),
                           env=data.get("env"), config=dict(data.get("config") or {}), run_id=data.get("run_id"))


def load_driver(driver: Mapping[str, Any]) -> Callable[..., Any]:
    if "callable" in driver:
        import importlib

        module_name, _, qualname = driver["callable"].partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        return target
    return pickle.loads(base64.b64decode(driver["pickle"]))


def call_driver(spec: Mapping[str, Any], spark: Any, context: Any) -> Any:
    global _current_context
    driver, args, kwargs = spec["driver"], list(spec.get("args", [])), dict(spec.get("kwargs", {}))
    _current_context = context
    try:
        if "file" in driver:
            return _run_file(driver, args)
        function = load_driver(driver)
        if _takes_context_first(function):  # BigFlow 1.x drivers: driver(context, **driver_arguments)
            return function(context, *args, **kwargs)
        return function(spark, context, *args, **kwargs)
    finally:
        _current_context = None


def _takes_context_first(function: Callable[..., Any]) -> bool:
    import inspect

    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    return bool(parameters) and parameters[0].name == "context"


def _run_file(driver: Mapping[str, Any], args: list[Any]) -> None:
    """Run a driver file as ``__main__`` with ``sys.argv = [path, *args]``, like spark-submit would."""
    path = driver["file"]
    saved_argv = sys.argv
    sys.argv = [path, *map(str, args)]
    try:
        if "source" in driver:  # staged remotely: the file's text travels in the spec
            code = compile(driver["source"], path, "exec")
            exec(code, {"__name__": "__main__", "__file__": path})  # noqa: S102 - the user's driver
        else:
            runpy.run_path(path, run_name="__main__")
    except SystemExit as error:
        if error.code not in (None, 0):
            raise RuntimeError(f"driver file exited with code {error.code}") from error
    finally:
        sys.argv = saved_argv


def _framework_frame(filename: str) -> bool:
    """A frame of bigflow_spark, pyspark, py4j or the standard library (not the user's)."""
    if filename.startswith("<"):
        return True
    parts = Path(filename).parts
    if "pyspark.zip" in parts or any(p.startswith("py4j-") and p.endswith(".zip") for p in parts):
        return True  # an executor's Python worker
    dirs = [Path(__file__).parent]
    dirs += [Path(m.__file__).parent for m in map(sys.modules.get, ("pyspark", "py4j")) if m and m.__file__]
    if any(Path(filename).is_relative_to(d) for d in dirs):
        return True
    installed = {"site-packages", "dist-packages"} & set(parts)
    return Path(filename).is_relative_to(sysconfig.get_paths()["stdlib"]) and not installed


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<name>\S+)')


def describe(error: BaseException) -> dict[str, str]:
    """``{"error": "Type: first line", "frame": "file:line in function"}`` of the user's deepest frame."""
    text = str(error).strip()
    chain, cause = [], error
    while cause is not None and len(chain) < 10:  # a wrapped error's frames are in its cause
        chain.insert(0, cause)
        cause = cause.__cause__ or cause.__context__
    frames = [(f.filename, f.lineno, f.name) for e in chain for f in traceback.extract_tb(e.__traceback__)]
    if type(error).__name__ == "PythonException":  # raised on an executor: its traceback is in the text
        frames = [(m["file"], int(m["line"]), m["name"]) for m in _FRAME.finditer(text)]
        lines = [ln.strip() for ln in text.splitlines() if re.match(r"^\w+(\.\w+)*(Error|Exception)\b", ln.strip())]
        summary = lines[-1] if lines else text.splitlines()[0] if text else type(error).__name__
    else:
        first = text.splitlines()[0] if text else ""
        summary = f"{type(error).__name__}: {first}" if first else type(error).__name__
    user = [f for f in frames if not _framework_frame(f[0])]
    # prefer the project's own files; fall back to installed ones (the project may be installed, e.g. in an image)
    user = [f for f in user if not {"site-packages", "dist-packages"} & set(Path(f[0]).parts)] or user
    result = {"error": summary}
    if user:
        filename, line, name = user[-1]
        result["frame"] = f"{_short_path(filename)}:{line} in {name}"
    return result


def _short_path(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename


def _jsonable(value: Any) -> Any:
    """The value as the parent process will see it: through JSON, else its repr."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return repr(value)


def _report(spec: Mapping[str, Any], outcome: dict[str, Any]) -> None:
    text = json.dumps(outcome)
    if spec.get("result_path"):
        Path(spec["result_path"]).write_text(text)
    else:
        print(RESULT_MARKER + text, flush=True)
