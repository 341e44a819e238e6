#!/usr/bin/env bash
# Access-decision latency on one core: the role/relation decision, and the IDC key release
# (grant lookup over 10,000 active grants + the sliced Cedar verdict of a 1,000-policy set)
# next to Cedar's raw evaluation of the same set in the same run. $1: decisions (default
# 1,000,000; the unsliced baselines run a 500th of that, at least 1,000).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dengbao-guard --example guard_latency
bin=target/release/examples/guard_latency
taskset -c 0 "$bin" "${1:-1000000}" 2>/dev/null || "$bin" "${1:-1000000}"
