#!/usr/bin/env bash
# The crash test with more iterations: SIGKILL a server during writes N times (default
# 500), then check that no acknowledged write lost its ledger entry and that the log is
# consistent with every checkpoint handed out before a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
CRASH_ITERATIONS="${1:-500}" cargo test -q -p dengbao-cli --test crash -- --nocapture 2>&1 | grep -E "SIGKILLs|test result|panicked"
