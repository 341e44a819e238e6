#!/usr/bin/env bash
# The vault's cryptography on one core: SM4-GCM MB/s next to the raw SM4 block cipher and to
# AES-256-GCM measured in the same run, and data-key unwrap latency (p50/p99).
# $1: MiB to encrypt per cipher (default 256).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p dengbao-vault --example vault_throughput
bin=target/release/examples/vault_throughput
taskset -c 0 "$bin" "${1:-256}" 2>/dev/null || "$bin" "${1:-256}"
