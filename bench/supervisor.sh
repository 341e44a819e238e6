#!/usr/bin/env bash
# A province's public security organ over 100,000 grading objects of 200 operators (issue
# #14): the jurisdiction dashboard's and the review queue's use cases, p50/p99 and req/s,
# next to the store's read of the area in the same run. Target: dashboard p99 <= 50 ms.
# Usage: bench/supervisor.sh [operators=200] [systems per operator=500] [requests=200]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dengbao-app --example supervisor
bin=target/release/examples/supervisor
taskset -c 0 "$bin" "$@" 2>/dev/stderr || "$bin" "$@"
