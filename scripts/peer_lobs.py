#!/usr/bin/python3
"""L-OBS's released LeNet-300-100, converted for obs import.

Dong, Chen & Pan, "Learning to Prune Deep Neural Networks via Layer-wise
Optimal Brain Surgeon" (NIPS 2017) released their trained LeNet-300-100 and
their own L-OBS-pruned weights in the git history of github.com/csyhhu/L-OBS
(MIT licence, Copyright (c) 2017 Constantine), at commit 5647091 ("Create
branch dev") under PyTorch/MNIST/LeNet300100/:

  LeNet300100_pretrain.pth          a state_dict (fc1 300x784, fc2 100x300,
                                    fc3 10x100 with biases, float32)
  pruned_weight/CR_K/fcN.{weight,bias}.npy   their pruned layer N keeping K%
  mask/CR_K/fcN.{weight,bias}.npy            of its weights and bias (K 5..80)

Their inputs are ToTensor (pixel/255) then Normalize(0.1307, 0.3081)
(PyTorch/utils/dataset.py); their network is Linear-ReLU-Linear-ReLU-Linear
(PyTorch/MNIST/models/LeNet300100.py). This script reads those files from a
git repository (the bare mirror or a clone) at a commit and writes, for
`obs import --names fc1,fc2,fc3 --arch 784-300-100-10 --act relu --loss ce`:

  lenet300100.npz            the dense checkpoint, float32 as released, plus
                             input_mean = 784 x 0.1307 and input_std = 784 x
                             0.3081 (float64) so obs's standardisation
                             (x - mean)/std on its pixel/255 MNIST is their
                             Normalize
  lobs-cr-A-B-C.npz          their pruned network with fc1 from CR_A, fc2 from
                             CR_B, fc3 from CR_C (float32, as their
                             validate-LeNet300100.py loads it with
                             torch.FloatTensor), masks fcN.weight_mask and
                             fcN.bias_mask from their mask files (L-OBS prunes
                             biases too); deflated, as numpy.savez_compressed
                             writes (mostly zeros)
  peer_lobs.json             provenance (commit, SHA-256 of every file read)
                             and PyTorch's own figures on the MNIST test set
                             obs embeds (datasets/mnist/t10k-*.gz): accuracy
                             in float32 (as their validate script computes)
                             and float64, and the float64 logits of the first
                             test images, for the Go test

  /usr/bin/python3 scripts/peer_lobs.py --repo /work/.mirror/csyhhu+L-OBS/repo \\
      --out cmd/obs/testdata/lobs --settings 5-20-70 --replay

--replay also reruns their pruning algorithm (prune-weights-LeNet300100.py)
on their committed Hessian inverses and records in peer_lobs.json whether it
gives every one of their CR_K files bit for bit (it does at 5647091).

--settings lists the pruned networks to write: A-B-C (per layer) or K
(every layer from CR_K). --net lenet5 converts their LeNet-5 instead
(LeNet5_pretrain.pth, their Normalize folded into conv1; see lenet5()). The .npz files are written with fixed zip
timestamps, so a second run rewrites the same bytes.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = "PyTorch/MNIST/LeNet300100"
LAYERS = ["fc1", "fc2", "fc3"]
SHAPES = {"fc1": (300, 784), "fc2": (100, 300), "fc3": (10, 100)}
MEAN, STD = 0.1307, 0.3081
NLOGITS = 8  # test images whose logits the Go test compares


class LeNet300100(nn.Module):
    """Their PyTorch/MNIST/models/LeNet300100.py, the same module names."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class Repo:
    """Reads files of a git repository at a commit, recording their SHA-256."""

    def __init__(self, path, commit):
        self.path, self.sha = path, {}
        self.commit = self.git("rev-parse", commit + "^{commit}").decode().strip()

    def git(self, *args):
        r = subprocess.run(["git", "-C", self.path] + list(args), capture_output=True)
        if r.returncode != 0:
            sys.exit("peer_lobs.py: git %s: %s" % (" ".join(args), r.stderr.decode().strip()))
        return r.stdout

    def read(self, path):
        b = self.git("show", "%s:%s" % (self.commit, path))
        self.sha[path] = hashlib.sha256(b).hexdigest()
        return b

    def npy(self, path):
        return np.load(io.BytesIO(self.read(path)), allow_pickle=False)


def write_npz(path, arrays, compress=False):
    """numpy.savez's format (one .npy per array; numpy.savez_compressed's
    deflate if compress) with fixed zip timestamps and sorted names, so that
    the bytes depend on the arrays (and zlib) only."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name in sorted(arrays):
            a = io.BytesIO()
            np.lib.format.write_array(a, np.ascontiguousarray(arrays[name]), version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, a.getvalue(), compress_type=z.compression)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def write_json(path, report):
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def mnist_test():
    """The MNIST test set obs embeds, as their loader gives it:
    (pixel/255 - 0.1307)/0.3081 in float32, and the labels."""
    d = os.path.join(ROOT, "datasets", "mnist")
    with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz")) as f:
        img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(d, "t10k-labels-idx1-ubyte.gz")) as f:
        lab = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    x = torch.from_numpy(img.astype(np.float32)) / 255  # ToTensor
    return (x - MEAN) / STD, torch.from_numpy(lab)  # Normalize, float32


def evaluate(state, x, y, module=None):
    """Test accuracy of the network with the state dict state in float32
    (their validate) and float64, and the float64 logits of the first
    NLOGITS images (inputs standardised in float64 from the pixels)."""
    out = {}
    net = (module or LeNet300100)()
    net.load_state_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in state.items()})
    net.eval()
    with torch.no_grad():
        out["accuracy_float32"] = int((net(x).argmax(1) == y).sum()) / len(y)
        z = net.double()((mnist_pixels() / 255 - MEAN) / STD)
        out["accuracy_float64"] = int((z.argmax(1) == y).sum()) / len(y)
        out["logits_float64"] = z[:NLOGITS].tolist()
    return out


_PIX = None


def mnist_pixels():
    global _PIX
    if _PIX is None:
        with gzip.open(os.path.join(ROOT, "datasets", "mnist", "t10k-images-idx3-ubyte.gz")) as f:
            img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
        _PIX = torch.from_numpy(img.astype(np.float64))
    return _PIX


def replay(repo, sd):
    """Their prune-weights-LeNet300100.py, re-implemented from its text:
    per layer, wb = [W, b]^T (in+1 x out), their ranking (the committed
    sensitivity/fcN.npy, argsort of wb_q^2 / ([H^-1]_qq + 10e-6) with their
    committed hessian_inv/fcN.npy, computed once), then for each weight in
    that order wb[:, c] -= wb[r, c] / ([H^-1]_rr + 10e-6) H^-1[:, r] with the
    same H^-1 throughout (no downdate, pruned weights not held at 0), and at
    every 5% the mask applied and CR_K saved. Returns, per layer, whether
    each CR_K's weights, bias and mask equal their committed files bit for
    bit, and whether recomputing the ranking in float32 gives theirs."""
    out = {}
    for l in LAYERS:
        wb = np.hstack([sd[l + ".weight"].numpy(), sd[l + ".bias"].numpy().reshape(-1, 1)]).transpose()
        hinv = repo.npy("%s/hessian_inv/%s.npy" % (BASE, l))
        rank = repo.npy("%s/sensitivity/%s.npy" % (BASE, l))
        l1, l2 = wb.shape
        mine = np.argsort((wb ** 2 / (np.diag(hinv)[:, None] + 10e-6)).ravel())
        r = {"ranking_recomputed_equal": bool(np.array_equal(mine, rank)), "hessian_rank": int(np.linalg.matrix_rank(
            repo.npy("%s/hessian/%s.npy" % (BASE, l)).astype(np.float64))), "hessian_size": l1,
            "hinv_diag_min": float(np.diag(hinv).min()), "hinv_diag_max": float(np.diag(hinv).max()), "cr_identical": {}}
        n = l1 * l2
        gap = int(n / 20)
        mask = np.ones(wb.shape)
        for i in range(n):
            q = rank[i]
            row, col = int(q / l2), q % l2
            wb[:, col] += -wb[row, col] / (hinv[row, row] + 10e-6) * hinv[:, row]
            mask[row, col] = 0
            if i % gap == 0 and int(i / gap) >= 4:
                wb = np.multiply(wb, mask)
                cr = 100 - int(i / gap) * 5
                same = True
                for f, got in (("weight", wb[:-1, :].transpose()), ("bias", wb[-1, :])):
                    same = same and np.array_equal(got, repo.npy("%s/pruned_weight/CR_%d/%s.%s.npy" % (BASE, cr, l, f)))
                for f, got in (("weight", mask[:-1, :].transpose()), ("bias", mask[-1, :])):
                    same = same and np.array_equal(got, repo.npy("%s/mask/CR_%d/%s.%s.npy" % (BASE, cr, l, f)))
                r["cr_identical"][str(cr)] = bool(same)
                if cr == 5:
                    break
        out[l] = r
    return out


class LeNet5(nn.Module):
    """Their PyTorch/MNIST/models/LeNet5.py: conv 20x5x5, max-pool 2, ReLU,
    conv 50x5x5, max-pool 2, ReLU, fc 800-500, ReLU, fc 500-10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5)
        self.conv2 = nn.Conv2d(20, 50, kernel_size=5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = torch.relu(torch.max_pool2d(self.conv1(x.view(-1, 1, 28, 28)), 2, 2))
        x = torch.relu(torch.max_pool2d(self.conv2(x), 2, 2))
        x = torch.relu(self.fc1(x.reshape(-1, 800)))
        return self.fc2(x)


LENET5 = "PyTorch/MNIST/LeNet5"
LENET5_LAYERS = ["conv1", "conv2", "fc1", "fc2"]


def fold(w, b):
    """conv1's weights and bias with their Normalize folded in (float64):
    conv1((x - m)/s) = conv1'(x) with W' = W/s, b' = b - (m/s) sum W, exact
    for an unpadded convolution (every output sees 25 real pixels)."""
    w = w.astype(np.float64)
    return w / STD, b.astype(np.float64) - MEAN / STD * w.sum(axis=(1, 2, 3))


def lenet5(args, repo):
    """LeNet-5: lenet5.npz (their Normalize folded into conv1, in float64;
    the other layers float32 as released) and lobs5-cr-A-B-C-D.npz, their
    pruned weights for conv1, conv2, fc1, fc2 from CR_A..CR_D as their
    validate-LeNet5.py loads them: pruned weights (masks fcN.weight_mask)
    with the layers' original, dense biases (that script does not load the
    pruned biases; the line is commented out)."""
    sd = torch.load(io.BytesIO(repo.read(LENET5 + "/LeNet5_pretrain.pth")), map_location="cpu")
    dense = {k: v.numpy() for k, v in sd.items()}
    assert sorted(dense) == sorted(l + "." + f for l in LENET5_LAYERS for f in ("weight", "bias")), sorted(dense)
    w1, b1 = fold(dense["conv1.weight"], dense["conv1.bias"])
    write_npz(os.path.join(args.out, "lenet5.npz"), {**dense, "conv1.weight": w1, "conv1.bias": b1})
    x, y = mnist_test()
    report = {"source": "https://github.com/csyhhu/L-OBS", "commit": repo.commit, "license": "MIT, Copyright (c) 2017 Constantine",
              "normalize": [MEAN, STD], "normalize_folded_into": "conv1", "test_images": len(y),
              "dense": evaluate(dense, x, y, LeNet5), "pruned": {}}
    for s in args.settings.split(","):
        ks = parse_setting(s, len(LENET5_LAYERS))
        name = "-".join(str(k) for k in ks)
        arrays, state, kept, total, lk = {}, {}, 0, 0, {}
        for l, k in zip(LENET5_LAYERS, ks):
            v = repo.npy("%s/pruned_weight/CR_%d/%s.weight.npy" % (LENET5, k, l)).astype(np.float32)
            mk = repo.npy("%s/mask/CR_%d/%s.weight.npy" % (LENET5, k, l))
            assert v.shape == mk.shape == dense[l + ".weight"].shape, (l, v.shape, mk.shape)
            assert set(np.unique(mk)) <= {0.0, 1.0} and np.all(v[mk == 0] == 0), (l, "weights not zero under the mask")
            state[l + ".weight"], state[l + ".bias"] = v, dense[l + ".bias"]
            arrays[l + ".weight"], arrays[l + ".bias"], arrays[l + ".weight_mask"] = v, dense[l + ".bias"], mk.astype(np.float32)
            kept, total = kept + int(mk.sum()), total + mk.size
            lk[l] = {"weights": int(mk.sum()), "of_weights": mk.size}
        arrays["conv1.weight"], arrays["conv1.bias"] = fold(arrays["conv1.weight"], arrays["conv1.bias"])
        write_npz(os.path.join(args.out, "lobs5-cr-%s.npz" % name), arrays, compress=True)
        r = evaluate(state, x, y, LeNet5)
        r["kept_weights"], r["weights"], r["layer_kept"] = kept, total, lk
        report["pruned"][name] = r
    return report


def parse_setting(s, n=3):
    parts = s.split("-")
    if len(parts) == 1:
        parts = parts * n
    if len(parts) != n:
        sys.exit("peer_lobs.py: setting %r: want K or %d kept percentages joined by -" % (s, n))
    ks = []
    for p in parts:
        if not p.isdigit() or int(p) % 5 != 0 or not 5 <= int(p) <= 80:
            sys.exit("peer_lobs.py: setting %r: each kept percentage must be one of 5, 10, ..., 80 (the CR_K directories)" % s)
        ks.append(int(p))
    return ks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", required=True, help="git repository of L-OBS (bare mirror or clone)")
    ap.add_argument("--commit", default="5647091", help="commit holding PyTorch/MNIST/LeNet300100 (default 5647091)")
    ap.add_argument("--out", required=True, help="directory to write")
    ap.add_argument("--settings", default="5-20-70", help="comma-separated pruned networks: A-B-C or K (default 5-20-70)")
    ap.add_argument("--replay", action="store_true",
                    help="also rerun their pruning script's algorithm on their committed Hessian inverses and check every CR_K file (about 20 s)")
    ap.add_argument("--net", default="lenet300100", choices=["lenet300100", "lenet5"],
                    help="lenet300100 (default) or lenet5 (their LeNet5_pretrain.pth; --settings then lists 4 layers, default 60-60-5-30, and peer_lobs5.json is written)")
    args = ap.parse_args()
    repo = Repo(args.repo, args.commit)
    os.makedirs(args.out, exist_ok=True)
    if args.net == "lenet5":
        if args.replay:
            sys.exit("peer_lobs.py: --replay is for lenet300100 only")
        if args.settings == "5-20-70":
            args.settings = "60-60-5-30"
        report = lenet5(args, repo)
        report["files_sha256"] = dict(sorted(repo.sha.items()))
        write_json(os.path.join(args.out, "peer_lobs5.json"), report)
        print("LeNet-5 dense: test accuracy %.4f (float32), %.4f (float64)" % (report["dense"]["accuracy_float32"], report["dense"]["accuracy_float64"]))
        for name, r in report["pruned"].items():
            print("LeNet-5 CR %s (their biases dense, as their validate): test accuracy %.4f (float32), %.4f (float64); %d of %d weights kept" % (
                name, r["accuracy_float32"], r["accuracy_float64"], r["kept_weights"], r["weights"]))
        return

    sd = torch.load(io.BytesIO(repo.read(BASE + "/LeNet300100_pretrain.pth")), map_location="cpu")
    dense = {}
    for l in LAYERS:
        w, b = sd[l + ".weight"].numpy(), sd[l + ".bias"].numpy()
        assert w.shape == SHAPES[l] and b.shape == (SHAPES[l][0],) and w.dtype == np.float32, (l, w.shape, w.dtype)
        dense[l + ".weight"], dense[l + ".bias"] = w, b
    assert sorted(sd) == sorted(dense), sorted(sd)
    std = {"input_mean": np.full(784, MEAN), "input_std": np.full(784, STD)}
    write_npz(os.path.join(args.out, "lenet300100.npz"), {**dense, **std})

    x, y = mnist_test()
    report = {"source": "https://github.com/csyhhu/L-OBS", "commit": repo.commit, "license": "MIT, Copyright (c) 2017 Constantine",
              "normalize": [MEAN, STD], "test_images": len(y), "dense": evaluate(dense, x, y), "pruned": {}}
    for s in args.settings.split(","):
        ks = parse_setting(s)
        name = "-".join(str(k) for k in ks)
        arrays, state, kept, total = dict(std), {}, 0, 0
        for l, k in zip(LAYERS, ks):
            for f in ("weight", "bias"):
                v = repo.npy("%s/pruned_weight/CR_%d/%s.%s.npy" % (BASE, k, l, f)).astype(np.float32)
                mk = repo.npy("%s/mask/CR_%d/%s.%s.npy" % (BASE, k, l, f))
                assert v.shape == mk.shape == dense[l + "." + f].shape, (l, f, v.shape, mk.shape)
                assert set(np.unique(mk)) <= {0.0, 1.0} and np.all(v[mk == 0] == 0), (l, f, "weights not zero under the mask")
                arrays[l + "." + f], arrays[l + "." + f + "_mask"] = v, mk.astype(np.float32)
                state[l + "." + f] = v
                if f == "weight":
                    kept, total = kept + int(mk.sum()), total + mk.size
        write_npz(os.path.join(args.out, "lobs-cr-%s.npz" % name), arrays, compress=True)
        r = evaluate(state, x, y)
        r["kept_weights"], r["weights"] = kept, total
        r["layer_kept"] = {}
        for l in LAYERS:
            mw, mb = arrays[l + ".weight_mask"], arrays[l + ".bias_mask"]
            r["layer_kept"][l] = {"weights": int(mw.sum()), "of_weights": mw.size, "biases": int(mb.sum()), "of_biases": mb.size}
        report["pruned"][name] = r
    if args.replay:
        report["replay"] = replay(repo, sd)
    report["files_sha256"] = dict(sorted(repo.sha.items()))
    write_json(os.path.join(args.out, "peer_lobs.json"), report)
    d = report["dense"]
    print("dense: test accuracy %.4f (float32), %.4f (float64)" % (d["accuracy_float32"], d["accuracy_float64"]))
    for l, r in report.get("replay", {}).items():
        print("replay %s: their H (%d x %d) has rank %d; CR_K files reproduced bit for bit: %s" % (
            l, r["hessian_size"], r["hessian_size"], r["hessian_rank"], "all" if all(r["cr_identical"].values()) else r["cr_identical"]))
    for name, r in report["pruned"].items():
        print("CR %s: test accuracy %.4f (float32), %.4f (float64); %d of %d weights kept (%.2f%%)" % (
            name, r["accuracy_float32"], r["accuracy_float64"], r["kept_weights"], r["weights"], 100 * r["kept_weights"] / r["weights"]))


if __name__ == "__main__":
    main()
