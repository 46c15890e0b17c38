#!/usr/bin/env bash
# Regenerates docs/gn-vs-fisher.md and docs/gn-vs-fisher-seeds.csv, the study
# of when the Gauss–Newton matrix and the empirical Fisher agree and which
# curvature predicts the true cost of a deletion (obs study: 10 settings x 20
# seeds by default, every candidate scored against retraining, plus the
# calibration-size factor P_c in {32, 128, 512, 2048}). Deterministic: fixed
# seeds and settings, so a rerun rewrites the same bytes. The committed
# report is the default 20 seeds: 638 s of CPU, 39 min wall on the shared
# 2-core machine beside other jobs (10 seeds take about half).
#
#   scripts/study.sh                               # the committed report in docs/ (20 seeds)
#   scripts/study.sh --seeds 1,2,3,4,5,6,7,8,9,10  # half the seeds
#   OUT=/tmp/s scripts/study.sh --quick            # smoke test elsewhere (tiny sizes)
#
# Extra arguments go to obs study (see go run ./cmd/obs study --help).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-docs}"
mkdir -p "$out"
start=$(date +%s)
go run ./cmd/obs study --out-dir "$out" "$@"
echo "scripts/study.sh: wrote $out/gn-vs-fisher.md and $out/gn-vs-fisher-seeds.csv in $(($(date +%s) - start)) s" >&2
