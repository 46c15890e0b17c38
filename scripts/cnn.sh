#!/usr/bin/env bash
# The LeNet-5 experiment of docs/cnn.md: the classic 6-16-120-84 LeNet-5
# (ReLU, max pooling) trained by obs train on MNIST's 60,000 training
# images for one epoch with the setting docs/cnn.md chose on a validation
# split (Adam, batch 32, lr 0.006, cosine schedule), seeds 1..3, then pruned by obs reproduce mnist to 50, 70, 90 and 95% of its
# weights (biases kept), one-shot and gradually (one fine-tuning epoch on
# the first 10,000 training images after each step), global allocation, by
# magnitude, OBD, layer-wise OBS and block OBS (GGN and empirical Fisher,
# blocks of 128), and one-shot only by OBS with K-FAC (GGN; a K-FAC build
# of LeNet-5 costs minutes, too much to rebuild at every gradual step), all
# on the first 1,000 training images. Writes into DIR the trained models
# (lenet5-sN.json, reused when present) and their training summaries, the
# runs of the three parts (DIR/cheap: magnitude, OBD, layer-wise OBS;
# DIR/obs: block OBS; DIR/kfac: K-FAC) and the merged report and figure in
# DIR itself; every step's wall time and peak memory from /usr/bin/time -v
# goes to DIR/time-*.txt.
#
#   scripts/cnn.sh DIR [extra obs reproduce mnist flags]
#
# About an hour on an idle 2-core machine; PARTS_IN_PARALLEL=1 runs the
# three pruning parts side by side.
# Set NICE="nice -n 19" to run behind other work.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/experiment.sh"
start_experiment "[obs reproduce mnist flags]" "${1:-}"
shift
lenet5="conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10"
models=()
for s in 1 2 3; do
	m=lenet5-s$s.json
	if [[ ! -e $m ]]; then
		run train-s$s "$bin" train --data mnist --input 1x28x28 --layers "$lenet5" --loss ce --trainer adam \
			--epochs 1 --batch 32 --lr 0.006 --lr-schedule cosine --seed $s --quiet --json --out "$m" >"train-s$s.json"
	fi
	models+=("$m")
done
list=$(
	IFS=,
	echo "${models[*]}"
)
common=(--models "$list" --calib 1000 --alpha 1e-5 --ft-epochs 1 --ft-patterns 10000
	--sparsities 0.5,0.7,0.9,0.95 --allocations global)
part() { # name, methods, gradual methods
	run "$1" "$bin" reproduce mnist "${common[@]}" --out-dir "$1" --methods "$2" --gradual-methods "$3" --quiet "${@:4}"
}
if [[ ${PARTS_IN_PARALLEL:-} == 1 ]]; then
	part cheap magnitude,obd,lobs all "$@" &
	part obs obs-ggn-b128,obs-ef-b128 all "$@" &
	part kfac obs-ggn-kfac none "$@"
	wait
else
	part cheap magnitude,obd,lobs all "$@"
	part obs obs-ggn-b128,obs-ef-b128 all "$@"
	part kfac obs-ggn-kfac none "$@"
fi
"$bin" reproduce mnist --merge cheap,obs,kfac --quiet --out-dir .
