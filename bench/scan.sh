#!/usr/bin/env bash
# dengbao scan: throughput on >= 1 GB of mixed text with few matches, with 1 thread and with
# all cores, next to ripgrep running equivalent regular expressions over the same files in
# the same run; accuracy on a labelled corpus; and memory on one enormous line.
# Targets (issue #6): >= 500 MB/s per core; no slower than 1.5x ripgrep's time.
# Usage: bench/scan.sh [TOTAL_MB=1024] [WORKDIR=/tmp/dengbao-scan-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-1024}"
dir="${2:-/tmp/dengbao-scan-bench}"
cores="$(nproc)"

command -v rg >/dev/null || { apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null; }
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null || true

cargo build --release -q -p dengbao-cli
cargo build --release -q -p dengbao-scan --example scan_corpus --example scan_eval
bin=target/release/dengbao

if [ ! -f "$dir/.done-$mb" ]; then
    rm -rf "$dir"
    echo "generating $mb MB corpus in $dir ..."
    planted=$(target/release/examples/scan_corpus "$dir" "$mb" 8 0.0005)
    echo "$planted" > "$dir/.done-$mb"
fi
bytes=$(du -sb --exclude='.done*' "$dir" | cut -f1)
echo "corpus: $bytes bytes in $(ls "$dir" | wc -l) files, $(cat "$dir/.done-$mb") planted valid identifiers"
cat "$dir"/part-* > /dev/null  # warm the page cache for both tools

now() { date +%s.%N; }
timeit() { local t0 t1; t0=$(now); "$@" > /dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null

# The same detectors as regular expressions (ASCII classes, as the scanner's are).
pat=(
  -e '[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]'
  -e '[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}'
  -e '(\+?86[ -]?)?1[3-9][0-9]{9}'
  -e '[0-9]{15,19}'
  -e '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
  -e '[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}'
  -e '[EG][0-9]{8}'
  -e '(绝密|机密|秘密|内部)★'
  -e '密级[:：]'
)

best() { local best=999999 t; for _ in 1 2 3; do t=$("$@"); best=$(echo "if ($t < $best) $t else $best" | bc -l); done; echo "$best"; }
run_scan() { timeit "$bin" scan "$dir" --threads "$1" --format json; }
run_rg() { timeit rg -c -j "$1" "${pat[@]}" "$dir"; }

s1=$(best run_scan 1); sn=$(best run_scan "$cores")
r1=$(best run_rg 1); rn=$(best run_rg "$cores")
mbps() { echo "scale=0; $bytes / $1 / 1000000" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
echo
printf '%-34s %8s s  %6s MB/s\n' "dengbao scan, 1 thread" "$s1" "$(mbps "$s1")"
printf '%-34s %8s s  %6s MB/s\n' "ripgrep (equivalent regex), 1 thread" "$r1" "$(mbps "$r1")"
printf '%-34s %8s s  %6s MB/s\n' "dengbao scan, $cores threads" "$sn" "$(mbps "$sn")"
printf '%-34s %8s s  %6s MB/s\n' "ripgrep, $cores threads" "$rn" "$(mbps "$rn")"
echo "time ratio dengbao/ripgrep: 1 thread $(ratio "$s1" "$r1")x, $cores threads $(ratio "$sn" "$rn")x (target <= 1.5x)"
echo "per-core throughput: $(mbps "$s1") MB/s (target >= 500 MB/s)"

echo
echo "== accuracy on a labelled corpus"
target/release/examples/scan_eval 32

echo
echo "== one 1 GB line on standard input (memory stays bounded)"
if [ -x /usr/bin/time ]; then
    head -c 1000000000 /dev/zero | tr '\0' 'a' | /usr/bin/time -f "max RSS %M KB, %e s" "$bin" scan - --format json > /dev/null
else
    head -c 1000000000 /dev/zero | tr '\0' 'a' | "$bin" scan - --format json > /dev/null && echo "ok"
fi
