#!/usr/bin/env bash
# The API against its own OpenAPI document, as an outside client drives it: schemathesis
# (from PyPI, in a virtualenv under target/) against a fresh demo server on loopback, with
# an API token of the security lead. Prints schemathesis's summary; exits non-zero on any
# failure (server error, undocumented status, schema-valid request refused, ...).
#   contract/schemathesis.sh [sqlite|postgres]   (postgres reads $DATABASE_URL)
# Examples per operation: $ST_EXAMPLES (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "== installing schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis>=4.3,<5'
fi
cargo build -q -p dengbao-cli
dir="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
args=(serve --demo --listen "127.0.0.1:$port" --data-dir "$dir/data")
if [ "$backend" = postgres ]; then
    : "${DATABASE_URL:?set DATABASE_URL to a throw-away PostgreSQL database}"
    args+=(--database "$DATABASE_URL")
fi
target/debug/dengbao "${args[@]}" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 60); do curl -sf "$base/healthz" >/dev/null && break; sleep 1; done
login() {
    curl -sf -c "$dir/cookies" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"Dengbao#2026-1\"}" "$base/api/v1/auth/login"
}
csrf="$(login lead | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')"
TOKEN="$(curl -sf -b "$dir/cookies" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"schemathesis","scope":"write","expires_in_days":1}' "$base/api/v1/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
export TOKEN
echo "== schemathesis on $backend, $base, as lead with a write token"
# Log-out and token revocation would end the run's own credentials.
# From the temporary directory: schemathesis keeps its cache in the working directory.
root="$(pwd)"
cd "$dir" && "$root/$venv/bin/schemathesis" --config-file "$root/contract/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --checks all --phases examples,coverage,fuzzing -n "${ST_EXAMPLES:-20}" --workers 2 \
    --exclude-path /api/v1/auth/logout --exclude-path-regex 'tokens/\{id\}$' \
    --seed "${ST_SEED:-1}" "${@:2}"
