#!/usr/bin/env bash
# Writes tests/fixtures/upgrade-before-key-history/: a SQLite database, the
# server key and the clients' homes, made by the nanochat and
# nanochat-client binaries of a commit from before key history (for
# example 4eb96be). tests/e2e/upgrade.rs starts today's server on a copy and
# checks that what was readable stays readable.
#
#   scripts/make-upgrade-fixture.sh OLD_BIN_DIR [postgres]
#
# With `postgres`, the old server runs on a throwaway PostgreSQL cluster
# (scripts/postgres.sh) instead, and the fixture holds a plain SQL dump of
# its database (pg_dump --inserts) in upgrade-before-key-history-postgres/.
#
# OLD_BIN_DIR holds nanochat and nanochat-client built from that commit
# (`git worktree add /tmp/old 4eb96be && cargo build` there). What it
# writes: alice, bob (with a server copy of his key) and carol complete
# with the fixture keys; alice creates a conversation with both, named
# "Before the upgrade"; alice writes, bob sends a file, carol writes;
# carol rotates her key once (a key the old client generates) and writes
# again; bob exports a plain key file. Loopback only. (.gitignore ignores
# *.db: commit the SQLite file with `git add -f`.)
set -euo pipefail
old=${1:?usage: scripts/make-upgrade-fixture.sh OLD_BIN_DIR [postgres]}
engine=${2:-sqlite}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/tests/fixtures/upgrade-before-key-history"
work=$(mktemp -d)
server_pid=
pg_dir=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    if [ -n "$pg_dir" ]; then
        "$root/scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1
        rm -rf "$pg_dir"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
url="http://127.0.0.1:$port"
mkdir -p "$work/server"
if [ "$engine" = postgres ]; then
    out="$out-postgres"
    # Its own directory: the cluster runs as the postgres user, who cannot
    # enter $work.
    pg_dir=$(mktemp -d)
    admin=$("$root/scripts/postgres.sh" start "$pg_dir" "$(free_port)")
    psql=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
    "$psql" "$admin" -qc "CREATE DATABASE fixture"
    export NANOCHAT_DATABASE="${admin%/postgres}/fixture"
fi
(cd "$work/server" && exec "$old/nanochat" serve --listen "127.0.0.1:$port") 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('$url/health')" 2>/dev/null && break
    sleep 0.1
done

keys="$root/conformance/fixtures/keys"
client() {
    local user=$1
    shift
    "$old/nanochat-client" --server "$url" --user "$user" --home "$work/homes/$user" \
        --password-file "$work/pw-$user" "$@"
}
for user in alice bob carol; do
    printf 'password of %s\n' "$user" >"$work/pw-$user"
    spki=$(openssl pkey -in "$keys/$user-3072.pem" -pubout -outform DER | base64 -w0)
    pkcs8=$(openssl pkcs8 -topk8 -nocrypt -in "$keys/$user-3072.pem" -outform DER | base64 -w0)
    printf '{"version":1,"server":"%s","username":"%s","public_key":"%s","private_key":{"encoding":"plain","pkcs8":"%s"}}\n' \
        "$url" "$user" "$spki" "$pkcs8" >"$work/$user.key.json"
    token=$(cd "$work/server" && "$old/nanochat" user create "$user" | sed -n 's/^complete token: //p')
    extra=()
    if [ "$user" = bob ]; then
        printf "bob's sync password\n" >"$work/sync-bob"
        extra=(--store-on-server --sync-password-file "$work/sync-bob")
    fi
    client "$user" complete --token "$token" --display-name "$user" --import "$work/$user.key.json" "${extra[@]}"
done
for user in alice bob carol; do
    client "$user" user show alice >/dev/null
    client "$user" user show bob >/dev/null
    client "$user" user show carol >/dev/null
done
conversation=$(client alice --json conversation create bob carol --name "Before the upgrade" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
client alice message send "$conversation" --text "alice, before the upgrade"
printf 'a file from before the upgrade\n' >"$work/notes.txt"
client bob message send "$conversation" --file "$work/notes.txt"
client carol message send "$conversation" --text "carol, with her first key"
client carol keys rotate
client carol message send "$conversation" --text "carol, with her second key"
client bob keys export "$work/bob-export.json"
# The old clients warn about carol's rotation; alice and bob accept it, as
# their users did.
fingerprint=$(client carol --json keys fingerprint | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
client alice trust user carol "$fingerprint"
client bob trust user carol "$fingerprint"
client alice conversation show "$conversation" >"$work/alice-view.txt"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
rm -rf "$out"
mkdir -p "$out"
if [ "$engine" = postgres ]; then
    pg_dump=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_dump
    "$pg_dump" --inserts --no-owner --no-privileges --no-comments "$NANOCHAT_DATABASE" >"$out/dump.sql"
else
    cp "$work/server/nanochat.db" "$out/"
fi
# The server key comes along: the clients pinned it.
cp "$work/server/nanochat-server-key.pem" "$out/"

cp -r "$work/homes" "$out/homes"
cp "$work/bob-export.json" "$out/bob-export.json"
cp "$work/alice-view.txt" "$out/alice-view.txt"
printf '%s\n' "$conversation" >"$out/conversation-id"
printf '%s\n' "$url" >"$out/server-url"
echo "wrote $out"
ls -la "$out"
