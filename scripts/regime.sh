#!/usr/bin/env bash
# The MNIST regime map of docs/mnist-regime.md (issue 24): is the empirical
# Fisher's one-shot pruning deficit anything but estimator variance once its
# scale is matched?
#
#   scripts/regime.sh DIR            # the map as docs/mnist-regime.md ran it
#   scripts/regime.sh --quick DIR    # a small version (seconds): one seed of
#                                    # 784-100-10, M = 250, 2 alphas
#
# Steps, each writing into DIR (time-NAME.txt from /usr/bin/time -v beside):
# 0. 784-100-10 trained on seeds 1..3 as docs/mnist.md trains LeNet-300-100
#    (scripts/mnist.sh: Adam, 15 epochs, lr 1e-3 x 0.8 per epoch):
#      obs train --data mnist --arch 784-100-10 --act relu --loss ce \
#          --trainer adam --epochs 15 --lr-decay 0.8 --seed S
#    LeNet-300-100 (784-300-100-10) is docs/structured.md's (Adam, 2
#    epochs), read from $LENET_DIR/lenet300_sS.json (default
#    /work/tmp-structured/runs) or trained the same way when absent.
# 1. alpha per kind on the validation split (the last 10,000 training
#    images; never a calibration image, never the test set), at M = 1000 on
#    seed 1 only: val.csv, then fixed (alpha-NET.txt).
# 2. the grid on the test set: NETS x seeds x M x kinds, one-shot OBS with
#    blocks of 128 to 90% and 95% of the weights (one run, two
#    checkpoints), no retraining: grid-NET-sS.csv.
# 3. predicted against actual loss increase for 2,000 sampled single
#    deletions per network and kind at M = 1000 with obs saliency --sample
#    (actual E measured on $EVAL_PATTERNS of the last training images):
#    saliency-NET-KIND.{csv,json}.
# Then scripts/regime/report (go run ./scripts/regime/report DIR) writes
# docs/mnist-regime.{md,csv,png}.
#
# Run one lane at a time: GOMAXPROCS=1, OPENBLAS_NUM_THREADS=1, the openblas
# build. NETS, SEEDS, CALIBS, KINDS, SAL_NETS and EVAL_PATTERNS override the
# defaults; steps whose output exists are skipped, so an interrupted run
# resumes.
set -euo pipefail

quick=0
if [[ ${1:-} == --quick ]]; then
	quick=1
	shift
fi
if [[ $# -lt 1 ]]; then
	echo "usage: $0 [--quick] DIR" >&2
	exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
export GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1
tags=${TAGS:-openblas}
(cd "$root" && go build -tags "$tags" -o "$out/obs" ./cmd/obs && go build -tags "$tags" -o "$out/regime" ./scripts/regime)
cd "$out"
run() { # name, command...
	local name=$1
	shift
	/usr/bin/time -v -o "time-$name.txt" "$@"
}

LENET_DIR=${LENET_DIR:-/work/tmp-structured/runs}
if ((quick)); then
	NETS=${NETS:-mlp100}
	SEEDS=${SEEDS:-1}
	CALIBS=${CALIBS:-250}
	KINDS=${KINDS:-ggn,ef,ef-rel,mc1,mc4}
	ABS_ALPHAS=${ABS_ALPHAS:-1e-5:1e-4}
	REL_ALPHAS=${REL_ALPHAS:-1e-2:1e-1}
	ALPHA_CALIB=250
	SAL_NETS=${SAL_NETS:-mlp100}
	SAL_KINDS=${SAL_KINDS:-ggn,ef}
	SAMPLE=${SAMPLE:-50}
	EVAL_PATTERNS=${EVAL_PATTERNS:-200}
	EPOCHS=1
	QUICK=(-quick 1000)
else
	NETS=${NETS:-mlp100 lenet300}
	SEEDS=${SEEDS:-1 2 3}
	CALIBS=${CALIBS:-250,1000,4000,16000}
	KINDS=${KINDS:-ggn,ef,ef-rel,mc1,mc4}
	ABS_ALPHAS=${ABS_ALPHAS:-1e-7:1e-6:1e-5:1e-4:1e-3}
	REL_ALPHAS=${REL_ALPHAS:-1e-3:1e-2:1e-1:1:10}
	ALPHA_CALIB=1000
	SAL_NETS=${SAL_NETS:-mlp100 lenet300}
	SAL_KINDS=${SAL_KINDS:-ggn,ef,ef-rel,mc1}
	SAMPLE=${SAMPLE:-2000}
	EVAL_PATTERNS=${EVAL_PATTERNS:-1000}
	EPOCHS=15
	QUICK=()
fi

# 0. Models.
model() { # net, seed
	case $1 in
	mlp100) echo "$out/mlp100_s$2.json" ;;
	lenet300)
		if [[ -e $LENET_DIR/lenet300_s$2.json ]]; then
			echo "$LENET_DIR/lenet300_s$2.json"
		else
			echo "$out/lenet300_s$2.json"
		fi
		;;
	esac
}
for net in $NETS; do
	for s in $SEEDS; do
		m=$(model "$net" "$s")
		[[ -e $m ]] && continue
		case $net in
		mlp100) run "train-$net-s$s" ./obs train --data mnist --arch 784-100-10 --act relu --loss ce --trainer adam \
			--epochs $EPOCHS --lr-decay 0.8 --seed "$s" --quiet --json --out "$m" >"train-$net-s$s.json" ;;
		lenet300) run "train-$net-s$s" ./obs train --data mnist --arch 784-300-100-10 --act relu --loss ce --trainer adam \
			--epochs 2 --seed "$s" --quiet --json --out "$m" >"train-$net-s$s.json" ;;
		esac
	done
done

# 1. alpha on the validation split, seed 1 (the first of SEEDS), M = 1000.
first=${SEEDS%% *}
alphas=""
for k in ${KINDS//,/ }; do
	a=$ABS_ALPHAS
	[[ $k == ef-rel ]] && a=$REL_ALPHAS
	alphas+="${alphas:+,}$k=$a"
done
for net in $NETS; do
	if [[ ! -e val-$net.csv ]]; then
		run "val-$net" ./regime -models "$net:$first:$(model "$net" "$first")" -calib $ALPHA_CALIB -kinds "$KINDS" \
			-alpha "$alphas" -eval val "${QUICK[@]}" >"val-$net.tmp" 2>"val-$net.log"
		mv "val-$net.tmp" "val-$net.csv"
	fi
	./regime -choose "val-$net.csv" -net "$net" >"alpha-$net.txt"
	echo "$net: alpha $(cat "alpha-$net.txt")" >&2
done

# 2. The grid on the test set.
for net in $NETS; do
	for s in $SEEDS; do
		[[ -e grid-$net-s$s.csv ]] && continue
		smax=16000
		[[ $net == lenet300 ]] && smax=${LENET_SCALES_MAX:-1000}
		run "grid-$net-s$s" ./regime -models "$net:$s:$(model "$net" "$s")" -calib "$CALIBS" -kinds "$KINDS" -scales-max "$smax" -limit "${LIMIT:-mc4=4000}" \
			-alpha "$(cat "alpha-$net.txt")" -eval test "${QUICK[@]}" >"grid-$net-s$s.tmp" 2>"grid-$net-s$s.log"
		mv "grid-$net-s$s.tmp" "grid-$net-s$s.csv"
	done
done

# 3. Predicted against actual single deletions (seed 1, M = 1000): E on
#    the last EVAL_PATTERNS training images (saliency-*), or with
#    SAL_EVAL=calib on the 1,000 calibration images themselves
#    (saliencycal-*).
pre=saliency
evalflags=(--eval-patterns $EVAL_PATTERNS)
if [[ ${SAL_EVAL:-last} == calib ]]; then
	pre=saliencycal
	evalflags=(--eval-calib)
fi
for net in $SAL_NETS; do
	for k in ${SAL_KINDS//,/ }; do
		[[ -e $pre-$net-$k.json ]] && continue
		a=$(tr ',' '\n' <"alpha-$net.txt" | sed -n "s/^$k=//p")
		curv=$k
		extra=()
		case $k in
		ef-rel) curv=ef extra=(--damping relative) ;;
		mc1) curv=mcfisher extra=(--samples 1 --curv-seed "$first") ;;
		esac
		run "$pre-$net-$k" ./obs saliency --model "$(model "$net" "$first")" --data mnist --curvature "$curv" "${extra[@]}" \
			--alpha "$a" --structure block:128 --calib $ALPHA_CALIB --sample $SAMPLE --sample-seed 1 \
			"${evalflags[@]}" --quiet --json --csv "$pre-$net-$k.csv" >"$pre-$net-$k.tmp"
		mv "$pre-$net-$k.tmp" "$pre-$net-$k.json"
	done
done
echo "done: $out" >&2
