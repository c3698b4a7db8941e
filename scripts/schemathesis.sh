#!/usr/bin/env bash
# API fuzzing: schemathesis (PyPI) generates requests from api.yml and runs
# every check it has (`--checks all`: status codes, content types, response
# schemas, headers, negative-data rejection, ...) against the real binary on
# loopback. The per-address rate limit is lifted for the run (schemathesis
# sends hundreds of requests per second from one address); everything else
# runs at its shipped defaults.
#
#   scripts/schemathesis.sh [BINARY] [MAX_EXAMPLES]
#
# BINARY defaults to target/debug/nanochat, MAX_EXAMPLES (per operation) to
# 100. schemathesis is installed into target/schemathesis on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-target/debug/nanochat}
max_examples=${2:-100}
st_dir=target/schemathesis
[ -x "$binary" ] || { echo "$binary is missing: cargo build first" >&2; exit 1; }
if [ ! -x "$st_dir/bin/schemathesis" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$st_dir" schemathesis
fi

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
binary=$(realpath "$binary")
(cd "$work" && exec "$binary" serve --listen "127.0.0.1:$port" --peer-rate 100000 --peer-burst 100000) \
    2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
    sleep 0.1
done

status=0
PYTHONPATH="$st_dir" python3 "$st_dir/bin/schemathesis" --config-file scripts/schemathesis.toml run api.yml \
    --url "http://127.0.0.1:$port" --checks all --max-examples "$max_examples" \
    --seed 1 --report junit --report-dir target/schemathesis-report || status=$?
if grep -q '"level":"ERROR"\|ERROR' "$work/server.log"; then
    echo "the server logged errors during the run:" >&2
    grep 'ERROR' "$work/server.log" | head -20 >&2
    status=1
fi
exit $status
