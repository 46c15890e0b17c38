#!/usr/bin/env bash
# Runs every fuzz target of obs for a given time each (default 5m) and prints
# the executions run. Crashers the fuzzer finds are written under the
# package's testdata/fuzz/<Target>/ and from then on run as regression cases
# in the ordinary `go test ./...`.
#
# Usage: scripts/fuzz.sh [DURATION]   e.g. scripts/fuzz.sh 30s
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-5m}
targets=(
  "./model FuzzParseFile"
  "./datasets FuzzParseMonk"
  "./datasets FuzzParseCSV"
  "./datasets FuzzParseCSVLabels"
  "./datasets FuzzParseWeights"
)
for t in "${targets[@]}"; do
  set -- $t
  echo "== $2 ($1) for $time"
  # -fuzzminimizetime keeps the fuzzer from pausing minutes on minimisation.
  go test -run='^$' -fuzz="^$2\$" -fuzztime="$time" -fuzzminimizetime=5s -parallel="${FUZZ_PARALLEL:-2}" "$1" 2>&1 | grep -E "elapsed|PASS|FAIL|panic|---" | tail -n 3
done
