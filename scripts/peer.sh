#!/usr/bin/env bash
# A peer's checkpoint (docs/mnist.md, "A peer's checkpoint: L-OBS's
# LeNet-300-100"): L-OBS's released LeNet-300-100 (Dong, Chen & Pan, NIPS
# 2017; github.com/csyhhu/L-OBS, MIT licence) imported into obs, pruned by
# obs's layer-wise OBS at their setting (fc1, fc2, fc3 keeping 5%, 20%,
# 70% of their weights) and at uniform kept fractions, beside their own
# pruned weights evaluated by obs and obs's magnitude pruning, without
# retraining; then both 5/20/70 networks fine-tuned one epoch.
#
#   scripts/peer.sh L-OBS-REPO DIR [COMMIT]
#
# L-OBS-REPO is a git clone (or bare mirror) of github.com/csyhhu/L-OBS that
# holds COMMIT (default 5647091; the repository is not shipped with obs).
# Needs Debian's python3-torch and python3-numpy (/usr/bin/python3). Writes
# into DIR: the converted .npz files and peer_lobs.json (PyTorch's own
# accuracies), the obs model files, one JSON per run, time-NAME.txt per run
# (/usr/bin/time -v) and results.md, the table; LENET5=1 adds their LeNet-5
# (about 15 minutes more). NICE="nice -n 19" lowers
# the priority. About 20 minutes on a loaded 2-core machine.
set -euo pipefail
if [[ $# -lt 2 ]]; then
	echo "usage: $0 L-OBS-REPO DIR [COMMIT]" >&2
	exit 2
fi
repo=$(cd "$1" && pwd)
commit=${3:-5647091}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=experiment.sh
source "$root/scripts/experiment.sh"
start_experiment "L-OBS-REPO DIR [COMMIT]" "$2"

uniform="5 10 20 30 50" # kept %, every layer
/usr/bin/python3 "$root/scripts/peer_lobs.py" --repo "$repo" --commit "$commit" --out . \
	--settings "5-20-70,$(echo $uniform | tr ' ' ',')" --replay | tee pytorch.txt

imp() { # npz, out
	"$bin" import --from "$1" --names fc1,fc2,fc3 --arch 784-300-100-10 --act relu --loss ce --quiet --out "$2" >/dev/null
}

# The dense checkpoint and their pruned networks, evaluated by obs.
imp lenet300100.npz dense.json
run eval-dense "$bin" eval --model dense.json --data mnist --json --quiet >eval-dense.json
for s in 5-20-70 $uniform; do
	[[ $s == *-* ]] || s=$s-$s-$s
	imp "lobs-cr-$s.npz" "peer-$s.json"
	run "eval-peer-$s" "$bin" eval --model "peer-$s.json" --data mnist --json --quiet >"eval-peer-$s.json"
done

# obs's layer-wise OBS at their setting: obs's default calibration (the
# first 1,000 training images) and theirs (all 60,000), damping 0.01 x the
# mean diagonal (obs's default); then their calibration with a damping
# 1e-8 x the mean diagonal, the nearest obs comes to their undamped H
# (--damp 0, theirs, is refused: fc1's H is singular, so its Cholesky
# fails; the message is kept in damp0.txt).
lw=(prune --model dense.json --data mnist --method obs --structure layer --curvature layer-input --json --quiet)
ls=(--layer-sparsity fc1=0.95,fc2=0.8,fc3=0.3)
for calib in 1000 60000; do
	run "lobs-5-20-70-c$calib" "$bin" "${lw[@]}" "${ls[@]}" --calib "$calib" \
		--out "lobs-5-20-70-c$calib.json" >"prune-lobs-5-20-70-c$calib.json"
done
run lobs-5-20-70-c60000-d1e-8 "$bin" "${lw[@]}" "${ls[@]}" --calib 60000 --damp 1e-8 \
	--out lobs-5-20-70-c60000-d1e-8.json >prune-lobs-5-20-70-c60000-d1e-8.json
if "$bin" "${lw[@]}" "${ls[@]}" --calib 60000 --damp 0 --out damp0.json >/dev/null 2>damp0.txt; then
	echo "--damp 0 was accepted" >damp0.txt
fi
# Uniform kept fractions, every layer, 1,000 calibration images.
for k in $uniform; do
	sp=$(awk "BEGIN{print 1 - $k/100}")
	run "lobs-u$k" "$bin" "${lw[@]}" --sparsity "$sp" --out "lobs-u$k.json" >"prune-lobs-u$k.json"
done

# Magnitude per layer (uniform) by obs reproduce mnist, which reads a model
# file's network but not its standardisation: the model goes in with the
# standardisation folded into fc1 (obs export), the same function; the
# magnitude order within a layer is unchanged by the fold (fc1's weights
# are all divided by the one std 0.3081).
"$bin" export --model dense.json --out folded.npz --quiet
"$bin" import --from folded.npz --names fc1,fc2,fc3 --arch 784-300-100-10 --act relu --loss ce --quiet --out folded.json
run eval-folded "$bin" eval --model folded.json --data mnist --json --quiet >eval-folded.json
sps=$(for k in $uniform; do awk "BEGIN{print 1 - $k/100}"; done | sort -g | paste -sd,)
run magnitude "$bin" reproduce mnist --models folded.json --methods magnitude --gradual-methods none \
	--allocations per-layer --sparsities "$sps" --out-dir magnitude --quiet >/dev/null
# Fine-tuning both 5/20/70 networks like for like: one epoch with the
# optimiser and batch of their lenet300-100/LOBS_retrain.py (Adam, lr 1e-3,
# batch 100), masks kept, shuffling seeds 1-3.
for s in 1 2 3; do
	for m in peer-5-20-70 lobs-5-20-70-c1000; do
		run "ft-$m-s$s" "$bin" train --model "$m.json" --data mnist --trainer adam --lr 1e-3 --batch 100 --epochs 1 \
			--seed "$s" --json --quiet --out "ft-$m-s$s.json" >"ft-$m-s$s.out"
	done
done

# LeNet-5, with LENET5=1: their checkpoint (Normalize folded into conv1)
# and their 60/60/5/30 setting (conv1, conv2, fc1, fc2 keeping 60%, 60%, 5%,
# 30%, their validate-LeNet5.py); obs prune measures the dense and the
# pruned test accuracy, obs eval their pruned weights (dense biases).
if [[ ${LENET5:-0} == 1 ]]; then
	/usr/bin/python3 "$root/scripts/peer_lobs.py" --repo "$repo" --commit "$commit" --out . --net lenet5 | tee pytorch5.txt
	l5=conv:20:5,maxpool:2,relu,conv:50:5,maxpool:2,relu,flatten,linear:500,relu,linear:10
	for f in lenet5 lobs5-cr-60-60-5-30; do
		"$bin" import --from "$f.npz" --input 1x28x28 --layers "$l5" --names conv1,conv2,fc1,fc2 --loss ce --quiet --out "$f.json" >/dev/null
	done
	run lobs5 "$bin" prune --model lenet5.json --data mnist --method obs --structure layer --curvature layer-input \
		--layer-sparsity conv1=0.4,conv2=0.4,fc1=0.95,fc2=0.7 --json --quiet --out lobs5-60-60-5-30.json >prune-lobs5-60-60-5-30.json
	run eval5-peer "$bin" eval --model lobs5-cr-60-60-5-30.json --data mnist --json --quiet >eval5-peer-60-60-5-30.json
fi

/usr/bin/python3 - "$uniform" <<'EOF' | tee results.md
import csv, glob, json, sys
uniform = sys.argv[1].split()
ld = lambda p: json.load(open(p))
pt = ld("peer_lobs.json")
def err(acc): return "%.2f%%" % (100 * (1 - acc))
def timing(name):
    t = {}
    for line in open("time-%s.txt" % name):
        k, _, v = line.strip().rpartition(": ")
        t[k] = v
    return "%s wall, %s s user, %.2f GB" % (t["Elapsed (wall clock) time (h:mm:ss or m:ss)"], t["User time (seconds)"], int(t["Maximum resident set size (kbytes)"]) / 1e6)
d = ld("eval-dense.json")
print("| network | obs test error | PyTorch test error (float32) |")
print("|---|---|---|")
print("| dense (their LeNet300100_pretrain.pth) | %s | %s |" % (err(d["test_accuracy"]), err(pt["dense"]["accuracy_float32"])))
print("| dense, standardisation folded into fc1 | %s | |" % err(ld("eval-folded.json")["test_accuracy"]))
print()
print("Their setting (fc1 5%, fc2 20%, fc3 70% of the weights kept), no retraining:")
print()
print("| method | calibration | damping | weights kept | biases kept | obs test error | time (loaded machine) |")
print("|---|---|---|---|---|---|---|")
e = ld("eval-peer-5-20-70.json")
lk = pt["pruned"]["5-20-70"]["layer_kept"]
print("| their L-OBS (CR_5/20/70 files), evaluated by obs | all 60,000 | none in H; +1e-5 on [H^-1]_qq | %d | %d | %s (PyTorch %s) | |" % (
    e["nonzero_multiply_adds"], sum(v["biases"] for v in lk.values()), err(e["test_accuracy"]), err(pt["pruned"]["5-20-70"]["accuracy_float32"])))
for name in ("c1000", "c60000", "c60000-d1e-8"):
    s = ld("prune-lobs-5-20-70-%s.json" % name)
    kept = round(sum((1 - f) * n for f, n in zip(s["layer_sparsity"], (235200, 30000, 1000))))
    print("| obs layer-wise OBS | first %d | %g x mean diag H | %d | %d | %s | %s |" % (
        s["calibration_patterns"], s["damp"], kept, s["params_after"] - kept, err(s["test_accuracy_after"]), timing("lobs-5-20-70-" + name)))
print()
print("--damp 0 (no damping, as theirs): " + open("damp0.txt").read().strip().splitlines()[-1])
print()
print("Uniform kept fraction on every layer, no retraining (obs: 1,000 calibration images):")
print()
print("| kept | their L-OBS (CR_K) | obs layer-wise OBS | obs magnitude (per layer) |")
print("|---|---|---|---|")
mag = {}
for r in csv.DictReader(open("magnitude/mnist-runs.csv")):
    if r.get("method") == "magnitude" and r.get("mode", "one-shot") == "one-shot":
        mag[round(float(r["target"]), 4)] = float(r["test_accuracy"])
for k in uniform:
    p = ld("eval-peer-%s-%s-%s.json" % (k, k, k))
    o = ld("prune-lobs-u%s.json" % k)
    m = mag.get(round(1 - int(k) / 100, 4))
    print("| %s%% | %s | %s | %s |" % (k, err(p["test_accuracy"]), err(o["test_accuracy_after"]), err(m) if m is not None else "?"))
print()
print("Both 5/20/70 networks fine-tuned one epoch (Adam, lr 1e-3, batch 100, masks kept), test error by shuffling seed:")
print()
print("| pruned network | before | seed 1 | seed 2 | seed 3 |")
print("|---|---|---|---|---|")
for m, name, before in (("peer-5-20-70", "their L-OBS (CR_5/20/70 files)", ld("eval-peer-5-20-70.json")["test_accuracy"]),
                        ("lobs-5-20-70-c1000", "obs layer-wise OBS, first 1000", ld("prune-lobs-5-20-70-c1000.json")["test_accuracy_after"])):
    print("| %s | %s | %s |" % (name, err(before), " | ".join(err(ld("ft-%s-s%d.out" % (m, s))["test_accuracy"]) for s in (1, 2, 3))))
import os
if os.path.exists("prune-lobs5-60-60-5-30.json"):
    p5, s5, e5 = ld("peer_lobs5.json"), ld("prune-lobs5-60-60-5-30.json"), ld("eval5-peer-60-60-5-30.json")
    print()
    print("LeNet-5 (conv1 60%, conv2 60%, fc1 5%, fc2 30% kept), no retraining:")
    print()
    print("| network | obs test error | PyTorch test error (float32) |")
    print("|---|---|---|")
    print("| dense | %s | %s |" % (err(s5["test_accuracy_before"]), err(p5["dense"]["accuracy_float32"])))
    print("| their L-OBS (CR files, dense biases as their validate) | %s | %s |" % (err(e5["test_accuracy"]), err(p5["pruned"]["60-60-5-30"]["accuracy_float32"])))
    print("| obs layer-wise OBS, 1,000 calibration images, damp %g | %s | |" % (s5["damp"], err(s5["test_accuracy_after"])))
print()
print("Times (/usr/bin/time -v): " + "; ".join("%s %s" % (n[5:-4], timing(n[5:-4])) for n in sorted(glob.glob("time-*.txt"))))
EOF
