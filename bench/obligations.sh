#!/usr/bin/env bash
# Obligation engine throughput on one core: 1,000,000 synthetic systems (override with $1),
# with and without a holiday calendar, next to a grade-only baseline from the same run.
# Target (issue #2): >= 1,000,000 systems/s on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
cargo build --release -q -p dengbao-core --example obligations_throughput
bin=target/release/examples/obligations_throughput
echo "== without holiday calendar"
taskset -c 0 "$bin" "$n" 2>/dev/null || "$bin" "$n"
echo
echo "== with a holiday calendar for every year"
taskset -c 0 "$bin" "$n" --calendar 2>/dev/null || "$bin" "$n" --calendar
