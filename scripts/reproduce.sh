#!/usr/bin/env bash
# Reproduces the OBS paper's XOR and MONK's experiments on the original UCI
# MONK's files and writes the results into DIR:
#
#   scripts/reproduce.sh DIR [extra obs reproduce flags, e.g. --seeds 20]
#
# Run from anywhere; it runs `go run ./cmd/obs reproduce all` from the
# repository root with --monk-dir pointing at ../shared/datasets/monk
# (relative to the root), and fails if those files are absent.
set -euo pipefail

if [[ $# -lt 1 ]]; then
	echo "usage: $0 DIR [obs reproduce flags]" >&2
	exit 2
fi
out=$1
shift
case $out in
/*) ;;
*) out=$PWD/$out ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
monk=$root/../shared/datasets/monk
for n in 1 2 3; do
	for kind in train test; do
		if [[ ! -f $monk/monks-$n.$kind ]]; then
			echo "$0: $monk/monks-$n.$kind not found: the UCI MONK's files must be in ../shared/datasets/monk relative to the repository root" >&2
			exit 1
		fi
	done
done
monk=$(cd "$monk" && pwd)

cd "$root"
go run ./cmd/obs reproduce all --monk-dir "$monk" --out-dir "$out" "$@"
