#!/usr/bin/env bash
# HTTP throughput: a release server on SQLite with 10,000 grading objects; wrk drives an
# authenticated read of the organisation's obligations on loopback for a bounded time and
# prints requests/s and p99 latency. Target (issue #3): >= 5,000 req/s, p99 <= 20 ms.
# Usage: bench/http.sh [SYSTEMS=10000] [SECONDS=15] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; secs="${2:-15}"; conns="${3:-32}"
port=18090
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p dengbao-cli
bin="$PWD/target/release/dengbao"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

echo "== importing $n grading objects into SQLite ($work)"
python3 - "$n" > "$work/inventory.json" <<'PY'
import json, random, sys
n = int(sys.argv[1]); random.seed(7)
objs = ["citizens_legal_persons", "social_order_public_interest", "national_security"]
degs = ["damage", "serious_damage", "particularly_serious_damage"]
systems = []
for i in range(n):
    op = f"{random.randint(2015, 2024)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"
    ev = [{"date": op, "type": "grade_determined"}]
    if random.random() < 0.8:
        ev.append({"date": op, "type": "filing_submitted"})
    if random.random() < 0.6:
        ev.append({"date": f"{random.randint(2023, 2025)}-{random.randint(1, 12):02d}-15", "type": "evaluation", "conformity": random.choice(["conformant", "basically_conformant"])})
    systems.append({"id": f"sys-{i:05d}", "name": f"System {i}", "kind": "information_system",
        "lifecycle": {"operating_since": op},
        "assessment": {"business_information": [{"object": random.choice(objs), "degree": random.choice(degs)}],
                       "system_service": [{"object": random.choice(objs), "degree": random.choice(degs)}]},
        "events": ev})
json.dump({"systems": systems}, sys.stdout)
PY
export DENGBAO_DATABASE="sqlite://$work/bench.db"
"$bin" admin create-org --name Bench 2>"$work/admin.log" || { cat "$work/admin.log"; exit 1; }
DENGBAO_PASSWORD='Load#Test-2026x' "$bin" admin create-user --org Bench --username bench-lead --role security_lead 2>"$work/admin.log" || { cat "$work/admin.log"; exit 1; }
t0=$(date +%s); "$bin" admin import --org Bench "$work/inventory.json" 2>"$work/admin.log" || { cat "$work/admin.log"; exit 1; }; echo "imported in $(( $(date +%s) - t0 )) s"

RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
login=$(curl -sf -c "$work/jar" -H 'content-type: application/json' -d '{"username":"bench-lead","password":"Load#Test-2026x"}' "http://127.0.0.1:$port/api/v1/auth/login")
csrf=$(echo "$login" | python3 -c 'import sys, json; print(json.load(sys.stdin)["csrf_token"])')
token=$(curl -sf -b "$work/jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d '{"name":"bench","scope":"read","expires_in_days":1}' "http://127.0.0.1:$port/api/v1/tokens" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
url="http://127.0.0.1:$port/api/v1/obligations?status=overdue&per_page=50"
t0=$(date +%s%N); first=$(curl -sf -H "Authorization: Bearer $token" "$url"); t1=$(date +%s%N)
echo "first request (computes $n systems' obligations): $(( (t1 - t0) / 1000000 )) ms; counts: $(echo "$first" | python3 -c 'import sys, json; print(json.load(sys.stdin)["counts"])')"

echo "== wrk: $conns connections, 2 threads, ${secs}s, GET $url"
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$url" | tee "$work/wrk.txt"
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
echo
echo "requests/s: $rps (target >= 5000); p99 latency: $p99 (target <= 20ms); non-2xx: ${non2xx:-0}"

# The web pages over the same data (a bearer token works for pages too): the dashboard runs
# a full assessment of every system per request; the list filters the cached inventory.
for page in "/" "/systems?grade=III&page=2" "/obligations"; do
    echo
    echo "== wrk: $conns connections, 2 threads, 5s, GET $page (HTML)"
    wrk -t2 -c"$conns" -d5s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$page" > "$work/page.txt"
    awk '/Requests\/sec/ {rps=$2} $1 == "99%" {p99=$2} /Non-2xx/ {bad=$NF} END {printf "requests/s: %s; p99 latency: %s; non-2xx: %s\n", rps, p99, bad ? bad : 0}' "$work/page.txt"
done
