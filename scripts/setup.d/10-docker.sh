#!/usr/bin/env bash
# A Docker engine for bigflow-core's image tests (Debian's docker.io 20.10, see local-engines.md §6):
#   - installs docker.io, debootstrap and docker-registry (apt) when missing;
#   - starts dockerd (no iptables, no bridge, overlay2) with all its state under $BIGFLOW_DOCKER_STATE
#     (default /var/cache/bigflow-ci/docker); the socket is $BIGFLOW_DOCKER_STATE/docker.sock;
#   - builds the base images once and keeps them in the daemon's data root:
#       local/debian:bookworm        debootstrap minbase, imported
#       local/python:3.11-bookworm   + python3 and CA certificates (what the tests build on).
# The tests start and stop their own registry (docker-registry on 127.0.0.1:15000).
#
#   bash scripts/setup.d/10-docker.sh          # install, start, build bases (fast when done already)
#   bash scripts/setup.d/10-docker.sh stop     # stop the daemon this script started
#   bash scripts/setup.d/10-docker.sh env      # print 'export DOCKER_HOST=... BIGFLOW_DOCKER_NETWORK=host'
#                                              # (RUN steps of 'bigflow build image' need the host's network:
#                                              # this engine has no bridge)
set -euo pipefail

STATE="${BIGFLOW_DOCKER_STATE:-/var/cache/bigflow-ci/docker}"
SOCKET="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"
export DOCKER_HOST="unix://$SOCKET"
# Debian's client matches the 20.10 daemon; a newer /usr/local/bin/docker may shadow it on PATH.
DOCKER=/usr/bin/docker
BASE=local/debian:bookworm
PYTHON_BASE=local/python:3.11-bookworm

say() { echo "10-docker: $*"; }

engine_up() { [ -S "$SOCKET" ] && "$DOCKER" version >/dev/null 2>&1; }

stop_engine() {
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        local pid
        pid="$(cat "$PIDFILE")"
        say "stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    # leftover mounts (nsfs, overlay) under the state directory
    grep -o " $STATE/[^ ]*" /proc/mounts | sort -r | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
}

case "${1:-}" in
    stop) stop_engine; exit 0 ;;
    env) echo "export DOCKER_HOST=$DOCKER_HOST BIGFLOW_DOCKER_NETWORK=host"; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [stop|env]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
    say "needs root (apt-get, dockerd); run it as root" >&2
    exit 1
fi

missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${missing[@]}" >/dev/null
    fi
fi

mkdir -p "$STATE"
if ! engine_up; then
    say "starting dockerd (socket $SOCKET)"
    rm -f "$SOCKET"
    setsid nohup /usr/sbin/dockerd \
        --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
        --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$PIDFILE" \
        -H "$DOCKER_HOST" >"$STATE/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 150); do engine_up && break; sleep 0.2; done
    if ! engine_up; then
        say "dockerd did not come up; last lines of $STATE/dockerd.log:" >&2
        tail -n 20 "$STATE/dockerd.log" >&2
        exit 1
    fi
fi

if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
    rootfs_tar="$STATE/bookworm-minbase.tar"
    if [ ! -s "$rootfs_tar" ]; then
        say "debootstrap bookworm (about a minute, once)"
        tmp="$STATE/rootfs.tmp"
        rm -rf "$tmp"
        debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian >"$STATE/debootstrap.log" 2>&1
        tar -C "$tmp" -cf "$rootfs_tar.tmp" .
        mv "$rootfs_tar.tmp" "$rootfs_tar"
        rm -rf "$tmp"
    fi
    say "importing $BASE"
    "$DOCKER" import "$rootfs_tar" "$BASE" >/dev/null
fi

if ! "$DOCKER" image inspect "$PYTHON_BASE" >/dev/null 2>&1; then
    say "building $PYTHON_BASE"
    ctx="$(mktemp -d)"
    cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
RUN apt-get update -q && apt-get install -y -q --no-install-recommends python3 ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
EOF
    "$DOCKER" build -q --network host -t "$PYTHON_BASE" "$ctx" >/dev/null
    rm -rf "$ctx"
fi
say "engine ready: DOCKER_HOST=$DOCKER_HOST, base image $PYTHON_BASE"
