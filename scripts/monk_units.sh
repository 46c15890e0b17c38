#!/usr/bin/env bash
# Unit pruning (obs prune --granularity unit) of MONK's networks: how many
# hidden units each problem needs. For MONK-1, -2, -3 (weight decay 1e-4,
# 1e-4, 1e-3 as in obs reproduce), the papers' networks (17-3-1, 17-2-1,
# 17-2-1) and a wider 17-8-1, seeds 1..N (obs train's 5 starts each), every
# method removes whole hidden units until the next removal would lower the
# training accuracy below its level before pruning (at least k of the P
# patterns right: --min-accuracy (k - 1/2)/P). Writes DIR/units.csv, one row
# per run, and prints the table of docs/reproduction.md.
#
#   scripts/monk_units.sh DIR [SEEDS]     (default 10 seeds)
set -euo pipefail
out=${1:?usage: $0 DIR [SEEDS]}
seeds=${2:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
obs=$out/obs
(cd "$root" && go build -o "$obs" ./cmd/obs)
cd "$out"
csv=units.csv
echo "problem,arch,seed,method,units_before,arch_after,units_after,params_after,train_accuracy,test_accuracy" >"$csv"
decay=(x 1e-4 1e-4 1e-3)
small=(x 17-3-1 17-2-1 17-2-1)
for p in 1 2 3; do
	for arch in "${small[$p]}" 17-8-1; do
		for s in $(seq 1 "$seeds"); do
			m=m$p-$arch-s$s.json
			"$obs" train --data monk$p --arch "$arch" --decay "${decay[$p]}" --seed "$s" --quiet --out "$m" >/dev/null
			acc=$("$obs" eval --model "$m" --data monk$p --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print((round(d["accuracy"]*d["patterns"])-0.5)/d["patterns"])')
			for method in obs-ggn obs-ggn+retrain obd-ggn magnitude magnitude+retrain; do
				args=(--method "${method%%-*}")
				case $method in
				obs-ggn*|obd-ggn*) args=(--method "${method%%-*}" --curvature ggn) ;;
				magnitude*) args=(--method magnitude) ;;
				esac
				[[ $method == *+retrain ]] && args+=(--retrain 1)
				"$obs" prune --model "$m" --data monk$p "${args[@]}" --granularity unit --min-accuracy "$acc" \
					--out "u-$m" --json --quiet | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(",".join(map(str, [sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], d["before"]["hidden_units"], d["after"]["arch"],
      d["after"]["hidden_units"], d["compacted_params"], d["train_accuracy_after"], d["test_accuracy_after"]])))' "$p" "$arch" "$s" "$method" >>"$csv"
			done
		done
	done
done
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(v, unit=""):
    m = statistics.median(v)
    return f"{m:g}{unit}" + (f" [{min(v):g}–{max(v):g}]" if min(v) != max(v) else "")
methods = list(dict.fromkeys(r["method"] for r in rows))
for start in ("paper", "17-8-1"):
    print(f"\nstart: {'the papers’ 17-3-1 / 17-2-1 / 17-2-1' if start == 'paper' else '17-8-1'}")
    print("| method | " + " | ".join(f"MONK-{p} units | MONK-{p} params | MONK-{p} test" for p in "123") + " |")
    print("|---|" + "---|" * 9)
    for m in methods:
        cells = []
        for p in "123":
            sel = [r for r in rows if r["method"] == m and r["problem"] == p and (r["arch"] == "17-8-1") == (start != "paper")]
            cells += [med([int(r["units_after"]) for r in sel]), med([int(r["params_after"]) for r in sel]),
                      med([round(100 * float(r["test_accuracy"]), 1) for r in sel], "%")]
        print(f"| {m} | " + " | ".join(cells) + " |")
PY
