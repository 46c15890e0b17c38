#!/usr/bin/env bash
# The MNIST experiment of docs/mnist.md: LeNet-300-100 trained with Adam on
# seeds 1..3 (15 epochs, lr 1e-3 x 0.8 per epoch: 98.3% test), then pruned to
# 50, 70, 90, 95 and 98% of its weights (biases kept) by obs reproduce mnist
# with the reduced protocol stated in docs/mnist.md, in nine parts. Writes into
# DIR the three trained models (lenet-sN.json, reused when present) and their
# training summaries, into DIR/oneshot, DIR/blocks, DIR/gradual-a ... each
# run's mnist-report.md, mnist-runs.csv, mnist-summary.json and
# mnist-accuracy.png, and into DIR itself the merged report and figure;
# every step's wall time and peak memory from /usr/bin/time -v goes to
# DIR/time-*.txt.
#
#   scripts/mnist.sh DIR [extra obs reproduce mnist flags]
#
# Extra flags go to every run and override the protocol's (the last one
# given wins), e.g. --calib 2000. The full grid (every method one-shot and
# gradual, global and per-layer) is one run of obs reproduce mnist with its
# defaults: several hours on 2 cores.
# `obs reproduce mnist --quick` is the seconds-long check. Needs nothing
# outside the repository (MNIST is embedded). Set NICE="nice -n 19" to run
# behind other work.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/experiment.sh"
start_experiment "[obs reproduce mnist flags]" "${1:-}"
shift
models=()
for s in 1 2 3; do
	m=lenet-s$s.json
	if [[ ! -e $m ]]; then
		run train-s$s "$bin" train --data mnist --act relu --loss ce --trainer adam --epochs 15 --lr-decay 0.8 \
			--seed $s --quiet --json --out "$m" >"train-s$s.json"
	fi
	models+=("$m")
done
list=$(
	IFS=,
	echo "${models[*]}"
)
common=(--models "$list" --calib 1000 --mc-samples 1 --alpha 1e-5 --ft-epochs 1)
# 1. One-shot, global and per-layer: magnitude, OBD, layer-wise OBS and OBS
#    with blocks of 128 of every curvature kind.
run oneshot "$bin" reproduce mnist "${common[@]}" --out-dir oneshot \
	--methods magnitude,obd,lobs,obs-ggn-b128,obs-ef-b128,obs-mcfisher-b128 --gradual-methods none \
	--allocations global,per-layer "$@"
# 2. One-shot, global: OBS with blocks of 32 and 512 (docs/mnist.md's table
#    ran MC Fisher with B = 512 as a separate run, blocks2, on the same code).
run blocks "$bin" reproduce mnist "${common[@]}" --out-dir blocks \
	--methods obs-ggn-b32,obs-ggn-b512,obs-ef-b32,obs-ef-b512,obs-mcfisher-b32,obs-mcfisher-b512 \
	--gradual-methods none --allocations global "$@"
# 3. Gradual (prune, fine-tune one epoch over the first 10,000 training
#    images, repeat), global; the cheap methods and the costly ones (a
#    curvature rebuilt at every step) apart, so that each keeps the seeds it
#    finished if stopped.
for part in a:magnitude,obd b:obs-ggn-b128,lobs; do
	run gradual-${part%%:*} "$bin" reproduce mnist "${common[@]}" --out-dir gradual-${part%%:*} --ft-patterns 10000 \
		--methods none --gradual-methods ${part#*:} --allocations global "$@"
done
# 4. Gradual, global, EF and MC Fisher with blocks of 128.
run gradual-c "$bin" reproduce mnist "${common[@]}" --out-dir gradual-c --ft-patterns 10000 \
	--methods none --gradual-methods obs-ef-b128,obs-mcfisher-b128 --allocations global "$@"
# 5. One-shot, per layer: OBS with blocks of 32 and 512.
run perlayer-blocks "$bin" reproduce mnist "${common[@]}" --out-dir perlayer-blocks \
	--methods obs-ggn-b32,obs-ggn-b512,obs-ef-b32,obs-ef-b512,obs-mcfisher-b32,obs-mcfisher-b512 \
	--gradual-methods none --allocations per-layer "$@"
# 6. Gradual, per layer: magnitude, OBD and layer-wise OBS.
run gradual-pl-a "$bin" reproduce mnist "${common[@]}" --out-dir gradual-pl-a --ft-patterns 10000 \
	--methods none --gradual-methods magnitude,obd,lobs --allocations per-layer "$@"
# 7. Gradual, global: EF and MC Fisher, then GGN, with blocks of 32 and 512.
run gradual-d "$bin" reproduce mnist "${common[@]}" --out-dir gradual-d --ft-patterns 10000 \
	--methods none --gradual-methods obs-ef-b32,obs-ef-b512,obs-mcfisher-b32,obs-mcfisher-b512 --allocations global "$@"
run gradual-e "$bin" reproduce mnist "${common[@]}" --out-dir gradual-e --ft-patterns 10000 \
	--methods none --gradual-methods obs-ggn-b32,obs-ggn-b512 --allocations global "$@"
# 8. Gradual, per layer: OBS with blocks of 128, then of 32 and 512.
run gradual-pl-b "$bin" reproduce mnist "${common[@]}" --out-dir gradual-pl-b --ft-patterns 10000 \
	--methods none --gradual-methods obs-ggn-b128,obs-ef-b128,obs-mcfisher-b128 --allocations per-layer "$@"
run gradual-pl-c "$bin" reproduce mnist "${common[@]}" --out-dir gradual-pl-c --ft-patterns 10000 \
	--methods none --gradual-methods obs-ggn-b32,obs-ggn-b512,obs-ef-b32,obs-ef-b512,obs-mcfisher-b32,obs-mcfisher-b512 \
	--allocations per-layer "$@"
# 9. Gradual, global, fine-tuning on all 60,000 images (a report of its own:
#    --merge joins only runs with the same fine-tune).
run gradual-ft60k "$bin" reproduce mnist "${common[@]}" --out-dir gradual-ft60k --ft-patterns 60000 \
	--methods none --gradual-methods magnitude,obd,lobs,obs-ggn-b128,obs-ef-b128,obs-mcfisher-b128 --allocations global "$@"
# One report and figure from parts 1-8.
"$bin" reproduce mnist --merge oneshot,blocks,gradual-a,gradual-b,gradual-c,perlayer-blocks,gradual-pl-a,gradual-d,gradual-e,gradual-pl-b,gradual-pl-c \
	--quiet --out-dir .
