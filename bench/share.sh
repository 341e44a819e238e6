#!/usr/bin/env bash
# The external-sharing gate's scan path on a 100 MB digit-dense export (issue #16):
# access::share end to end on SQLite (live-grant check and use, vault opening the sealed
# content, scan, risk evaluation, MAC, evidence row) next to the scanner alone on the same
# bytes in the same run — in process, and the `dengbao scan` binary on the file.
# Usage: bench/share.sh [MB=100]
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-100}"
file="$(mktemp -d)/export.csv"
trap 'rm -rf "$(dirname "$file")"' EXIT
cargo build --release -q -p dengbao-app --example share_gate
cargo build --release -q -p dengbao-cli
out=$(taskset -c 0 target/release/examples/share_gate "$mb" "$file" 2>/dev/null || target/release/examples/share_gate "$mb" "$file")
echo "$out" | grep -v '^GATE_SECONDS='
gate=$(echo "$out" | sed -n 's/^GATE_SECONDS=//p')
best=999999
for _ in 1 2 3; do
    t0=$(date +%s.%N)
    target/release/dengbao scan "$file" --threads 1 --format json > /dev/null || true
    t1=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $t1 - $t0))")
done
python3 - "$file" "$best" "$gate" <<'PY'
import os, sys
size = os.path.getsize(sys.argv[1]) / 1e6
cli, gate = float(sys.argv[2]), float(sys.argv[3])
print(f"{'dengbao scan FILE --threads 1 (the binary)':<52} {cli:7.3f} s {size / cli:7.0f} MB/s")
print(f"gate / dengbao scan: {gate / cli:.2f}x the time")
PY
