#!/usr/bin/env bash
# Ledger figures, measured in one run:
#  - durable appends/s through group commit (stand-alone records such as security events:
#    4096 concurrent producers, one transaction and one sync per batch, each append
#    acknowledged only after its batch committed), and, as the baseline, real audited
#    changes each committed in its own transaction with its ledger entry — on SQLite
#    (synchronous=FULL, and =NORMAL for changes) and PostgreSQL when reachable;
#  - inclusion/consistency proof generation at 1,000,000 entries (target <= 100 µs);
#  - full verification (re-hash every entry, rebuild the tree) in MB/s next to raw
#    single-stream SM3 over the same bytes (target >= 70 %).
# Target for appends (issue #5): >= 50,000 durable appends/s on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dengbao-store --example append_bench
cargo build --release -q -p dengbao-ledger --example ledger_bench
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "== durable appends, 5 s each (target: 50,000/s on SQLite)"
printf 'SQLite FULL, group commit:         '; target/release/examples/append_bench "sqlite://$work/group.db" 5 4096 full group
printf 'SQLite FULL, one change per tx:    '; target/release/examples/append_bench "sqlite://$work/full.db" 5 16 full change
printf 'SQLite NORMAL, one change per tx:  '; target/release/examples/append_bench "sqlite://$work/normal.db" 5 16 normal change
if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    db="dengbao_bench_$$"
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
    printf 'PostgreSQL, group commit:          '; target/release/examples/append_bench "postgres://postgres@127.0.0.1:5432/$db" 5 4096 full group
    printf 'PostgreSQL, one change per tx:     '; target/release/examples/append_bench "postgres://postgres@127.0.0.1:5432/$db" 5 16 full change
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE $db WITH (FORCE)"
fi
echo
echo "== proofs and verification"
target/release/examples/ledger_bench "${1:-1000000}"
