"""Finding the Java runtime Spark needs, with one-line errors that say how to install it."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

from bigflow.api import BigflowError

MIN_JAVA = 17
INSTALL_HINT = ("install Java 17 (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless) "
                "or point JAVA_HOME at an installed JDK/JRE 17 or 21")


def java_home() -> Path:
    """JAVA_HOME of a Java >= 17: ``$JAVA_HOME``, else the ``java`` found on PATH."""
    return _java_home(os.environ.get("JAVA_HOME"), os.environ.get("PATH", ""))


@functools.cache
def _java_home(env_home: str | None, path: str) -> Path:
    if env_home:
        java = Path(env_home) / "bin" / "java"
        if not os.access(java, os.X_OK):
            raise BigflowError(f"Java not found: JAVA_HOME={env_home} has no bin/java; {INSTALL_HINT}")
    else:
        found = shutil.which("java", path=path)
        if found is None:
            raise BigflowError(f"Java not found (PySpark needs Java {MIN_JAVA}+): {INSTALL_HINT}")
        java = Path(found).resolve()
    major = _major_version(java)
    if major < MIN_JAVA:
        raise BigflowError(f"Java {major} at {java} is too old: Spark 4 needs Java {MIN_JAVA}+; {INSTALL_HINT}")
    return java.parent.parent


def _major_version(java: Path) -> int:
    """From the runtime's ``release`` file (``JAVA_VERSION="17.0.15"``), else from ``java -version``: starting a
    JVM only to read its version costs ~0.15 s of every Spark job."""
    try:
        release = (java.parent.parent / "release").read_text(errors="replace")
    except OSError:
        release = ""
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', release, re.MULTILINE)
    if match is None:
        match = _version_from_running(java)
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _version_from_running(java: Path) -> re.Match[str]:
    try:
        done = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except OSError as error:
        raise BigflowError(f"Java at {java} does not run ({error}); {INSTALL_HINT}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if done.returncode != 0 or match is None:
        raise BigflowError(f"Java at {java} does not run ({done.stderr.strip()[:200]!r}); {INSTALL_HINT}")
    return match
