#!/usr/bin/env bash
# Ledger figures, measured in one run:
#  - durable appends/s: real audited changes, each committed with its ledger entry (SQLite
#    with synchronous=FULL and =NORMAL, and PostgreSQL when reachable on 127.0.0.1:5432);
#  - inclusion/consistency proof generation at 1,000,000 entries (target <= 100 µs);
#  - full verification (re-hash every entry, rebuild the tree) in MB/s next to raw
#    single-stream SM3 over the same bytes (target >= 70 %).
# Target for appends (issue #5): >= 50,000 durable appends/s on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dengbao-store --example append_bench
cargo build --release -q -p dengbao-ledger --example ledger_bench
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "== durable appends (16 concurrent writers, 5 s each)"
printf 'SQLite, synchronous=FULL:   '; target/release/examples/append_bench "sqlite://$work/full.db" 5 16 full
printf 'SQLite, synchronous=NORMAL: '; target/release/examples/append_bench "sqlite://$work/normal.db" 5 16 normal
if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    db="dengbao_bench_$$"
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
    printf 'PostgreSQL:                 '; target/release/examples/append_bench "postgres://postgres@127.0.0.1:5432/$db" 5 16
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE $db WITH (FORCE)"
fi
echo
echo "== proofs and verification"
target/release/examples/ledger_bench "${1:-1000000}"
