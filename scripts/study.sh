#!/usr/bin/env bash
# Regenerates docs/gn-vs-fisher.md and docs/figures/gn-vs-fisher-*.png, the
# measured study of when the Gauss–Newton matrix and the empirical Fisher
# agree (obs study). Deterministic: seeds 1, 2, 3 and fixed settings, so a
# rerun rewrites the same bytes. A few minutes on 2 cores.
#
#   scripts/study.sh                      # the report in docs/
#   OUT=/tmp/s scripts/study.sh --quick   # smoke test elsewhere (tiny sizes)
#
# Extra arguments go to obs study (see go run ./cmd/obs study --help), e.g.
# --monk-dir ../shared/datasets/monk to use the UCI MONK's files instead of
# the built-in samples.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-docs}"
mkdir -p "$out"
start=$(date +%s)
go run ./cmd/obs study --out-dir "$out" "$@"
echo "scripts/study.sh: wrote $out/gn-vs-fisher.md in $(($(date +%s) - start)) s" >&2
