#!/usr/bin/env bash
# Ledger figures: inclusion/consistency proof generation at 1,000,000 entries (target
# <= 100 µs), and full verification (re-hash every entry, rebuild the tree) in MB/s next to
# raw single-stream SM3 over the same bytes in the same run (target >= 70 %).
# Durable appends/s on SQLite and PostgreSQL are measured once the store writes ledger
# entries (issue #5, not yet integrated): this script says so rather than print a number.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dengbao-ledger --example ledger_bench
target/release/examples/ledger_bench "${1:-1000000}"
echo "durable appends/s: not measured yet — ledger entries are not written by the store yet (issue #5)"
