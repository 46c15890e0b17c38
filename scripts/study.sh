#!/usr/bin/env bash
# Regenerates docs/gn-vs-fisher.md, the study of when the Gauss–Newton matrix
# and the empirical Fisher agree and which curvature predicts the true cost of
# a deletion (obs study: 9 settings x 20 seeds, every candidate scored
# against retraining). Deterministic: seeds 1..20 and fixed settings, so a
# rerun rewrites the same bytes. Measured: about 2.5 minutes of CPU, 13-18 minutes wall on the
# shared 2-core machine (load average near 30).
#
#   scripts/study.sh                      # the report in docs/
#   OUT=/tmp/s scripts/study.sh --quick   # smoke test elsewhere (tiny sizes)
#
# Extra arguments go to obs study (see go run ./cmd/obs study --help).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-docs}"
mkdir -p "$out"
start=$(date +%s)
go run ./cmd/obs study --out-dir "$out" "$@"
echo "scripts/study.sh: wrote $out/gn-vs-fisher.md in $(($(date +%s) - start)) s" >&2
