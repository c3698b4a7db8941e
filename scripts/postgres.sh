#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks: its own cluster in
# DIR, on a loopback port, run as an unprivileged user, trust
# authentication on 127.0.0.1 only.
#
#   scripts/postgres.sh start DIR [PORT]   prints the admin URL on stdout
#   scripts/postgres.sh stop DIR
#
# Installs Debian's postgresql package if no server binaries are found
# (CI). As root, the cluster runs as the `postgres` user (initdb refuses
# root); otherwise as the calling user.
set -euo pipefail

command=${1:?usage: scripts/postgres.sh start|stop DIR [PORT]}
dir=${2:?usage: scripts/postgres.sh start|stop DIR [PORT]}
port=${3:-54329}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is not installed; install Debian's postgresql package" >&2
        exit 1
    fi
    echo "installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    as_owner() { runuser -u "$owner" -- "$@"; }
else
    owner=$(id -un)
    as_owner() { "$@"; }
fi

case "$command" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chown "$owner" "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" --pgdata="$dir/data" --username=postgres \
            --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
    fi
    # fsync stays on: the crash tests measure what PostgreSQL really keeps.
    as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" \
        start >&2 || {
        cat "$dir/server.log" >&2
        exit 1
    }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    dir=$(cd "$dir" && pwd)
    as_owner "$bindir/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >&2
    ;;
*)
    echo "usage: scripts/postgres.sh start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
