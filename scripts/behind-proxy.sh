#!/usr/bin/env bash
# README's "More than one machine" example, on loopback: two `nanochat serve`
# instances on one PostgreSQL database, sharing one server key file, behind
# nginx with the README's configuration (TLS left out). Through the proxy:
# the whole conformance suite, then the soak (bench/src/scenarios/soak.rs:
# clients on both instances, every event checked for loss, duplication and
# order). Checks that the proxy spread the requests over both instances.
#
#   scripts/behind-proxy.sh [POSTGRES_ADMIN_URL]
#
# Without a URL (or NANOCHAT_TEST_POSTGRES) it starts a throwaway cluster
# with scripts/postgres.sh. Installs Debian's nginx if missing (as root).
# NANOCHAT_BIN, NANOCHAT_CONFORMANCE_BIN and NANOCHAT_BENCH_BIN choose the
# binaries (default target/debug/...); NANOCHAT_SOAK="CLIENTS OPS" sizes
# the soak (default "20 50").
set -euo pipefail

bin=$(realpath "${NANOCHAT_BIN:-target/debug/nanochat}")
conformance=$(realpath "${NANOCHAT_CONFORMANCE_BIN:-target/debug/nanochat-conformance}")
bench=$(realpath "${NANOCHAT_BENCH_BIN:-target/debug/nanochat-bench}")
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
    [ -d "$work/pg" ] && scripts/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    [ "$(id -u)" -eq 0 ] || { echo "nginx is not installed" >&2; exit 1; }
    echo "installing nginx from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >&2 \
        || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >&2; }
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

admin=${1:-${NANOCHAT_TEST_POSTGRES:-}}
if [ -z "$admin" ]; then
    admin=$(scripts/postgres.sh start "$work/pg" "$(free_port)")
fi
db_name="nanochat_proxy_$$"
psql "$admin" -qc "CREATE DATABASE $db_name"
database="${admin%/*}/$db_name"
export NANOCHAT_DATABASE="$database"

# The first instance creates the server key; the second loads a copy of it,
# as an operator copies it to each machine.
port_a=$(free_port); port_b=$(free_port); port_proxy=$(free_port)
mkdir -p "$work/a" "$work/b" "$work/nginx"
# Every client here comes from 127.0.0.1: the per-address limit is lifted
# (the conformance suite would wait it out; the soak would not), so the one
# case that proves a limit exists cannot pass here. A low max_conversations
# keeps LIMIT-CONV-001, which fills it, short.
cat >"$work/expected-failures" <<'EXPECTED'
ENV-RATE-001 the per-address limit is lifted on these instances for the soak
EXPECTED
start() { # DIR PORT
    (cd "$1" && exec "$bin" serve --listen "127.0.0.1:$2" \
        --server-key "$1/nanochat-server-key.pem" --trusted-proxy 127.0.0.1 \
        --peer-rate 1000000 --peer-burst 1000000 --max-conversations 30) 2>"$1/server.log" &
    pids+=($!)
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$2/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "the instance on port $2 did not start:" >&2; cat "$1/server.log" >&2; exit 1
}
start "$work/a" "$port_a"
install -m 0600 "$work/a/nanochat-server-key.pem" "$work/b/nanochat-server-key.pem"
start "$work/b" "$port_b"

cat >"$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
    log_format upstream '\$upstream_addr \$status';
    access_log $work/nginx/access.log upstream;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;

    # From README.md, "More than one machine" (TLS left out).
    upstream nanochat {
        server 127.0.0.1:$port_a;
        server 127.0.0.1:$port_b;
    }
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 127.0.0.1:$port_proxy;
        location / {
            proxy_pass http://nanochat;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
            client_max_body_size 32m;
        }
    }
}
CONF
if [ "$(id -u)" -eq 0 ]; then
    # nginx's workers drop to `nobody`: they must reach their temp paths
    # (large bodies and attachments are buffered there).
    chmod 0711 "$work"
    chown nobody "$work/nginx"
fi
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf"

"$conformance" --server "http://127.0.0.1:$port_proxy" \
    --provision-cmd "'$bin' user create {username}" \
    --provision-expired-cmd "'$bin' user create {username} --ttl 1s && sleep 1.2" \
    --reset-cmd "'$bin' user reset {username}" --delete-cmd "'$bin' user delete {username}" \
    --strict --expected-failures "$work/expected-failures" || { echo "nginx's error log:" >&2; cat "$work/nginx/error.log" >&2; exit 1; }

read -r soak_clients soak_ops <<<"${NANOCHAT_SOAK:-20 50}"
"$bench" soak --server "http://127.0.0.1:$port_proxy" \
    --provision-cmd "'$bin' user create {username}" \
    --soak-clients "$soak_clients" --soak-ops "$soak_ops" --quick --out "$work/bench"

served_a=$(grep -c "127.0.0.1:$port_a " "$work/nginx/access.log" || true)
served_b=$(grep -c "127.0.0.1:$port_b " "$work/nginx/access.log" || true)
echo "through nginx: instance a answered $served_a requests, instance b $served_b"
if [ "$served_a" -eq 0 ] || [ "$served_b" -eq 0 ]; then
    echo "the proxy did not use both instances" >&2
    exit 1
fi
