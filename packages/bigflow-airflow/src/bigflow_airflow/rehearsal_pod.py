"""The ``airflow_local_settings.py`` of a rehearsal (``bigflow airflow rehearse``): a cluster policy that runs
every KubernetesPodOperator / GKEStartPodOperator task as the pod it would create, in a container on the local
Docker engine. The DAG files stay the production files byte for byte; only Airflow's own extension point changes.

``bigflow airflow rehearse`` copies this file verbatim into ``$AIRFLOW_HOME/config/`` of the rehearsal's Airflow,
so it imports only the standard library (and Airflow, inside functions). At execution time the task:

1. builds its pod request with the operator's own ``build_pod_request_obj`` (against a hook that says "not in a
   cluster": there is none);
2. runs the ``base`` container of that pod with ``docker run --network host``: same image, command, arguments and
   environment; secrets (``secretKeyRef``) come from the rehearsal's environment under the variable's name; CPU
   and memory limits become ``--cpus`` / ``--memory``;
3. streams the container's output into the task log, appends one JSON line per try to
   ``$BIGFLOW_REHEARSAL_RECORD`` (exit code, the job's one-line error) and fails the task on a non-zero exit;
4. removes the container however the try ends (success, failure, ``execution_timeout``, SIGTERM).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

LABEL = "bigflow.rehearsal"
POD_OPERATOR = "KubernetesPodOperator"
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


class RehearsalError(Exception):
    """The pod cannot be rehearsed, or its container failed."""


class NoCluster:
    """The Kubernetes hook the operator's pod builder asks: the rehearsal has no cluster and no connection."""

    is_in_cluster = False

    def get_namespace(self):
        return None

    def get_xcom_sidecar_container_image(self):
        return None

    def get_xcom_sidecar_container_resources(self):
        return None

    def get_xcom_sidecar_container_security_context(self):
        return None


def task_policy(task) -> None:
    """Airflow cluster policy: pod operator tasks execute as local containers (see the module's doc)."""
    concrete = type(task)
    if POD_OPERATOR in (cls.__name__ for cls in concrete.__mro__) and concrete.__dict__.get("execute") is not \
            execute_as_container:
        concrete.execute = execute_as_container


def cpus(quantity: str) -> str:
    """A Kubernetes CPU quantity ("500m", "2") as ``docker run --cpus``."""
    text = str(quantity)
    return f"{int(text[:-1]) / 1000:g}" if text.endswith("m") else f"{float(text):g}"


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity ("512Mi", "4Gi", "1G", "1000") in bytes."""
    text = str(quantity)
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * _UNITS[suffix])
    return int(float(text))


def container_of(pod):
    """The pod's main container (``base``, as the operator names it)."""
    containers = pod.spec.containers or []
    return next((c for c in containers if c.name == "base"), containers[0])


def docker_run(pod, name: str, label: str, environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """``docker run`` argv for the pod's main container, and the values of its ``-e NAME`` variables (passed
    through the docker client's environment, so no value, secret or not, appears in a process list)."""
    container = container_of(pod)
    argv = ["run", "--name", name, "--label", f"{LABEL}={label}", "--network", "host"]
    values = {}
    for var in container.env or []:
        if var.value_from is None:
            values[var.name] = var.value or ""
        elif var.value_from.secret_key_ref is not None:
            ref = var.value_from.secret_key_ref
            if var.name not in environ:
                raise RehearsalError(f"secret env var {var.name} (Kubernetes secret {ref.name!r}, key {ref.key!r}) "
                                     "is not set: put it in the rehearsal's --secrets file or the environment")
            values[var.name] = environ[var.name]
        else:
            raise RehearsalError(f"env var {var.name} takes its value from the cluster ({var.value_from}); "
                                 "a rehearsal cannot provide it")
    if container.env_from:
        raise RehearsalError("env_from (ConfigMaps, whole secrets) is not rehearsed; use env vars or secrets")
    for variable in sorted(values):
        argv += ["-e", variable]
    limits = (container.resources.limits if container.resources else None) or {}
    if "cpu" in limits:
        argv += ["--cpus", cpus(limits["cpu"])]
    if "memory" in limits:
        argv += ["--memory", str(memory_bytes(limits["memory"]))]
    if container.working_dir:
        argv += ["--workdir", container.working_dir]
    command = list(container.command or [])
    if command:
        argv += ["--entrypoint", command[0]]
    argv += [container.image, *command[1:], *(container.args or [])]
    return argv, values


def one_line_error(lines: list[str], code: int) -> str:
    """The job's one-line error: bigflow's last ``Error:`` line, else the last line, with the exit code."""
    errors = [line for line in lines if line.startswith("Error: ")]
    last = errors[-1][len("Error: "):] if errors else (lines[-1] if lines else "no output")
    return f"container exited with code {code}: {last}"


def container_output(docker: str, name: str) -> list[str]:
    """Everything the ended container wrote (stdout, then stderr), from the engine: an attached ``docker run``
    may end before it relayed the last lines of a container that exits at once (bigflow's ``Error:`` line)."""
    done = subprocess.run([docker, "logs", name], capture_output=True, text=True, errors="replace",
                          stdin=subprocess.DEVNULL)
    return (done.stdout + done.stderr).splitlines() if done.returncode == 0 else []


def record(entry: dict) -> None:
    path = os.environ.get("BIGFLOW_REHEARSAL_RECORD")
    if path:
        with open(path, "a") as file:
            file.write(json.dumps(entry) + "\n")


def execute_as_container(self, context):
    """``execute`` of a pod operator task in a rehearsal: its pod, run by the local Docker engine."""
    self.__dict__["hook"] = NoCluster()  # the operator's cached hook property: no cluster to ask
    pod = self.build_pod_request_obj(context)
    ti = context["ti"]
    label = os.environ.get("BIGFLOW_REHEARSAL_ID", "manual")
    name = f"bigflow-{label}-{pod.metadata.name}-{ti.try_number}"[:120]
    entry = {"task_id": self.task_id, "run_id": context["run_id"], "try": ti.try_number, "container": name,
             "image": container_of(pod).image, "exit_code": None, "error": None}
    docker = os.environ.get("BIGFLOW_REHEARSAL_DOCKER", "docker")
    started = time.monotonic()
    try:
        argv, values = docker_run(pod, name, label, dict(os.environ))
    except RehearsalError as error:
        entry["error"] = str(error)
        record(entry)
        raise
    self.log.info("Rehearsal: pod %s as container %s of %s", pod.metadata.name, name, entry["image"])
    lines: list[str] = []
    process = subprocess.Popen([docker, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL, env={**os.environ, **values}, errors="replace")
    try:
        for line in process.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            self.log.info("%s", line)
        entry["exit_code"] = code = process.wait()
    except BaseException as interrupted:  # execution_timeout, SIGTERM, Ctrl-C: the container goes too
        entry["error"] = f"{type(interrupted).__name__}: {interrupted}".rstrip(": ")
        raise
    finally:
        if process.poll() is None:
            process.kill()
        entry["seconds"] = round(time.monotonic() - started, 3)
        if entry["exit_code"] is not None and entry["exit_code"] != 0:
            entry["error"] = one_line_error(container_output(docker, name) or lines, entry["exit_code"])
        record(entry)
        subprocess.run([docker, "rm", "--force", name], capture_output=True, stdin=subprocess.DEVNULL)
    if code != 0:
        raise RehearsalError(entry["error"])
