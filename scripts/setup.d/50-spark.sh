#!/usr/bin/env bash
# bigflow-spark: Java 17 for Spark (installed from Debian when missing), and a check that pyspark imports.
# Idempotent and fast on a second run: it only installs when no Java 17+ is found.
set -euo pipefail

java_major() {  # major version of the java binary $1, or 0
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\(\.[0-9]*\)*.*/\1/p' | head -n 1 | grep . || echo 0
}

JAVA17=/usr/lib/jvm/java-17-openjdk-amd64
java_bin=""
for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$JAVA17/bin/java" "$(command -v java || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(java_major "$candidate")" -ge 17 ]; then
        java_bin=$candidate
        break
    fi
done
if [ -z "$java_bin" ]; then
    echo "    installing Java 17 (openjdk-17-jre-headless) for Spark"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    java_bin="$JAVA17/bin/java"
fi
echo "    java: $java_bin ($("$java_bin" -version 2>&1 | head -n 1))"

python - <<'PY'
import pyspark
print(f"    pyspark {pyspark.__version__}")
PY
