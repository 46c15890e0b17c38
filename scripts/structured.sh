#!/bin/sh
# Reruns the LeNet-300-100 and LeNet-5 tables of docs/structured.md: trains
# the networks with obs train (MNIST's 60,000 training images, Adam), prunes
# each one shot by units (LeNet-300-100, per layer, to at least 2x, 4x and
# 8x fewer multiply-adds) or filters (LeNet-5, per layer, at least 2x and
# 4x), and to 2:4, with scripts/structured (calibration: the first 1,000
# training images; fine-tuning: one epoch of Adam, lr 5e-4, batch 128, on
# the first 10,000), then prints the tables. One CSV per network and seed
# in $OUT (default structured-out); models already trained there are reused.
#
#   sh scripts/structured.sh                 # seeds 1 2 3 of both networks
#   SEEDS="1" NETS=lenet5 sh scripts/structured.sh
#
# Long: on an idle 2-core machine each LeNet-300-100 training takes minutes,
# each LeNet-5 one tens of minutes (pure Go); run it at low priority on a
# shared machine.
set -eu
OUT=${OUT:-structured-out}
SEEDS=${SEEDS:-"1 2 3"}
NETS=${NETS:-"lenet300 lenet5"}
mkdir -p "$OUT"
go build -o "$OUT/obs" ./cmd/obs
go build -o "$OUT/structured" ./scripts/structured
LENET5="conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10"
common="-calib 1000 -ft-patterns 10000 -ft-epochs 1 -ft-lr 5e-4 -alpha 1e-4 -block 128"
for net in $NETS; do
	for s in $SEEDS; do
		m="$OUT/${net}_s$s.json"
		case $net in
		lenet300)
			[ -f "$m" ] || "$OUT/obs" train --data mnist --arch 784-300-100-10 --act relu --loss ce --trainer adam --epochs 2 --seed "$s" --quiet --out "$m"
			# Per-layer fractions of the hidden units removed: 0.48 leaves
			# 156 and 52 units (2.03x fewer multiply-adds), 0.73 leaves 81
			# and 27 (4.04x), 0.87 leaves 39 and 13 (8.53x).
			"$OUT/structured" -model "$m" -first "$s" $common -targets 0.48,0.73,0.87 \
				-methods obs-ggn-out,obs-ef-out,lobs-unit,obd-out,magnitude-out,nm,nm-lobs >"$OUT/${net}-runs-s$s.csv"
			;;
		lenet5)
			# docs/cnn.md's one-epoch setting (chosen on a validation split).
			[ -f "$m" ] || "$OUT/obs" train --data mnist --input 1x28x28 --layers "$LENET5" --loss ce --trainer adam --epochs 1 --batch 32 --lr 0.006 --lr-schedule cosine --seed "$s" --quiet --out "$m"
			# Per-layer fractions of the filters removed: 0.4375 leaves 4
			# and 9 filters (2.02x fewer multiply-adds), 0.67 leaves 2 and
			# 6 (4.24x), 0.84 leaves 1 and 3 (8.86x).
			"$OUT/structured" -model "$m" -first "$s" -granularity filter $common -targets 0.4375,0.67,0.84 \
				-methods magnitude,obd,obs-ef,obs-ggn >"$OUT/${net}-runs-s$s.csv"
			"$OUT/structured" -model "$m" -first "$s" $common -methods nm,nm-lobs >"$OUT/${net}-nm-runs-s$s.csv"
			;;
		esac
	done
	/usr/bin/python3 scripts/structured_table.py "$OUT/${net}"-*runs-s*.csv
done
