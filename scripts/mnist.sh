#!/usr/bin/env bash
# The full MNIST experiment: LeNet-300-100 trained with Adam on seeds 1..3,
# pruned one-shot and gradually to 50, 70, 90, 95 and 98% of its weights by
# magnitude, OBD and layer-wise OBS, global and per-layer. Writes
# mnist-report.md, mnist-runs.csv, mnist-summary.json and mnist-accuracy.png
# into DIR:
#
#   scripts/mnist.sh DIR [extra obs reproduce flags, e.g. --seeds 5 --epochs 20]
#
# Several hours on 2 cores (each seed: 10 training epochs, 30 fine-tuning
# epochs and 12 sets of layer-wise OBS paths); `obs reproduce mnist --quick`
# is the seconds-long check. Needs nothing outside the repository (MNIST is
# embedded).
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
cd "$root"
exec go run ./cmd/obs reproduce mnist --seeds 3 --out-dir "$out" "$@"
