#!/usr/bin/python3
"""Round trip between PyTorch and obs: weights in, pruned weights out.

Trains a small PyTorch MLP (nn.Sequential: Linear(4, 6), Tanh, Linear(6, 3),
cross-entropy) on a seeded synthetic 3-class CSV, saves its state_dict as .npz
(numpy.savez) and .safetensors, in float64 and in float32, and checks that

  1. obs import + obs predict give PyTorch's softmax outputs: max |diff|
     <= 1e-12 from the float64 files, <= 1e-6 from the float32 files (obs
     computes in float64 on the float32 weights; PyTorch in float32);
  2. obs eval's training error E equals PyTorch's CrossEntropyLoss (mean
     over the patterns; no weight decay) to 1e-12;
  3. after obs prune + obs export, PyTorch's forward pass on the exported
     weights equals obs predict on the pruned model (1e-12), in both formats;
  4. the masks load: with torch.nn.utils.prune.identity on every weight and
     bias, load_state_dict (strict) accepts the export with P.weight renamed
     to P.weight_orig, the masks equal the pruned model's, and a step of SGD
     leaves the pruned weights at 0; without masks a plain nn.Sequential loads
     the weights strictly.

It writes the small fixtures the Go test TestTorchRoundTrip (cmd/obs) reads,
so the same checks run without Python; run again, it rewrites them with the
same bytes (the same obs version, PyTorch and NumPy):

  /usr/bin/python3 scripts/torch_roundtrip.py cmd/obs/testdata/torch

Debian's python3-torch and python3-numpy (apt-get install python3-torch
python3-numpy); Debian has no python3-safetensors, so .safetensors files are
written and read here from the format's specification (8-byte little-endian
header length, JSON header of dtype/shape/data_offsets, raw little-endian data).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

TOL64 = 1e-12  # float64 end to end: only summation order differs
TOL32 = 1e-6   # float32 forward in PyTorch against float64 in obs on the same weights

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": "<f4", "F64": "<f8"}[info["dtype"]]
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dt).reshape(info["shape"]).copy()
    return out


def load_weights(path):
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    return load_safetensors(path)


def net(dtype):
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)).to(dtype)


def run(obs, *args, cwd=None):
    r = subprocess.run([obs, *args, "--quiet"], capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        sys.exit("obs %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def read_preds(path, k):
    rows = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding=None)
    return np.array([[float(r[1 + j]) for j in range(k)] for r in rows])


def check(name, got, want, tol):
    d = float(np.max(np.abs(np.asarray(got) - np.asarray(want))))
    print("%-58s max |diff| %.3g (tolerance %g)" % (name, d, tol))
    if not d <= tol:
        sys.exit("FAIL: " + name)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "torch-roundtrip"
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="obs-torch-")
    obs = os.path.join(tmp, "obs")
    subprocess.run(["go", "build", "-o", obs, "./cmd/obs"], cwd=ROOT, check=True)

    # Data: 60 seeded patterns, 4 inputs, classes a/b/c from a linear rule.
    g = np.random.default_rng(7)
    X = g.standard_normal((60, 4))
    score = np.stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 0], 0.5 * X[:, 3]], axis=1)
    labels = np.array(["a", "b", "c"])[score.argmax(axis=1)]
    data = os.path.join(out, "data.csv")
    with open(data, "w") as f:
        f.write("x1,x2,x3,x4,class\n")
        for x, c in zip(X, labels):
            f.write(",".join(repr(float(v)) for v in x) + "," + c + "\n")
    y = torch.tensor([{"a": 0, "b": 1, "c": 2}[c] for c in labels])

    # Train in float64 with L-BFGS (a few steps: obs does not need a minimum
    # to compare outputs).
    m64 = net(torch.float64)
    X64 = torch.tensor(X, dtype=torch.float64)
    opt = torch.optim.LBFGS(m64.parameters(), max_iter=200)
    lossf = nn.CrossEntropyLoss()

    def closure():
        opt.zero_grad()
        l = lossf(m64(X64), y)
        l.backward()
        return l
    opt.step(closure)
    m32 = net(torch.float32)
    m32.load_state_dict({k: v.float() for k, v in m64.state_dict().items()})

    with torch.no_grad():
        p64 = torch.softmax(m64(X64), dim=1).numpy()
        p32 = torch.softmax(m32(torch.tensor(X, dtype=torch.float32)), dim=1).double().numpy()
        loss64 = float(lossf(m64(X64), y))
    for tag, m in (("64", m64), ("32", m32)):
        sd = {k: v.detach().numpy() for k, v in m.state_dict().items()}
        np.savez(os.path.join(out, "model%s.npz" % tag), **sd)
        save_safetensors(os.path.join(out, "model%s.safetensors" % tag), sd)
    np.savetxt(os.path.join(out, "torch_probs64.csv"), p64, delimiter=",", fmt="%.17g")
    np.savetxt(os.path.join(out, "torch_probs32.csv"), p32, delimiter=",", fmt="%.17g")
    with open(os.path.join(out, "torch_loss64.json"), "w") as f:
        json.dump({"cross_entropy_mean": loss64}, f)

    # 1 and 2: import, predict, eval.
    for tag, ref, tol in (("64", p64, TOL64), ("32", p32, TOL32)):
        for ext in ("npz", "safetensors"):
            mj = os.path.join(tmp, "m%s-%s.json" % (tag, ext))
            run(obs, "import", "--from", os.path.join(out, "model%s.%s" % (tag, ext)), "--arch", "4-6-3",
                "--act", "tanh", "--loss", "ce", "--classes", "a,b,c", "--out", mj)
            pc = os.path.join(tmp, "p.csv")
            run(obs, "predict", "--model", mj, "--data", data, "--target", "class", "--out", pc)
            check("predict, float%s .%s vs PyTorch softmax" % (tag, ext), read_preds(pc, 3), ref, tol)
            if tag == "64":
                ev = json.loads(run(obs, "eval", "--model", mj, "--data", data, "--target", "class", "--json"))
                check("eval E, float64 .%s vs CrossEntropyLoss" % ext, ev["error"], loss64, TOL64)

    # 3 and 4: prune in obs, export, load in PyTorch. The fixture pruned.json
    # records the commands that made it, so they run in a directory of their
    # own on plain file names (not the random temporary directory, nor the
    # path the script was given), with every setting that decides the
    # numbers spelled out (not left to defaults that may change): the same
    # bytes however and wherever the script is run.
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    for f in ("model64.npz", "data.csv"):
        with open(os.path.join(out, f), "rb") as src, open(os.path.join(work, f), "wb") as dst:
            dst.write(src.read())
    run(obs, "import", "--from", "model64.npz", "--arch", "4-6-3", "--act", "tanh", "--loss", "ce",
        "--classes", "a,b,c", "--out", "m64.json", cwd=work)
    run(obs, "prune", "--model", "m64.json", "--data", "data.csv", "--target", "class",
        "--method", "obs", "--curvature", "ggn", "--alpha", "1e-6", "--inverse", "blocked",
        "--recompute", "1", "--sparsity", "0.5", "--out", "pruned.json", cwd=work)
    pruned = os.path.join(out, "pruned.json")
    with open(os.path.join(work, "pruned.json"), "rb") as src, open(pruned, "wb") as dst:
        dst.write(src.read())
    pc = os.path.join(tmp, "obs_pruned_probs.csv")
    run(obs, "predict", "--model", pruned, "--data", data, "--target", "class", "--out", pc)
    obs_pruned = read_preds(pc, 3)
    pm = json.load(open(pruned))
    for ext in ("npz", "safetensors"):
        w = os.path.join(tmp, "pruned." + ext)
        run(obs, "export", "--model", pruned, "--format", ext, "--out", w)
        sd = {k: torch.tensor(v) for k, v in load_weights(w).items()}
        masks = {k: v for k, v in sd.items() if k.endswith("_mask")}
        plain = {k: v for k, v in sd.items() if not k.endswith("_mask")}
        m = net(torch.float64)
        m.load_state_dict(plain)  # strict: the names are nn.Sequential's
        with torch.no_grad():
            tp = torch.softmax(m(X64), dim=1).numpy()
        check("PyTorch forward on obs-pruned .%s vs obs predict" % ext, tp, obs_pruned, TOL64)
        if ext == "npz":
            np.savetxt(os.path.join(out, "torch_pruned_probs.csv"), tp, delimiter=",", fmt="%.17g")

        mp = net(torch.float64)
        for i in (0, 2):
            prune.identity(mp[i], "weight")
            prune.identity(mp[i], "bias")
        renamed = {}
        for k, v in sd.items():
            if k.endswith(".weight") or k.endswith(".bias"):
                renamed[k + "_orig"] = v
            else:
                renamed[k] = v
        mp.load_state_dict(renamed)  # strict, with the masks
        npruned = int(sum(float((v == 0).sum()) for v in masks.values()))
        want = pm["num_params"] - pm["num_free"]
        print("%-58s %d masked, model file says %d pruned" % ("masks from ." + ext, npruned, want))
        if npruned != want:
            sys.exit("FAIL: mask count")
        opt = torch.optim.SGD(mp.parameters(), lr=0.1)
        opt.zero_grad()
        lossf(mp(X64), y).backward()
        opt.step()
        zero_kept = all(bool((getattr(mp[i], n)[masks["%d.%s_mask" % (i, n)] == 0] == 0).all())
                        for i in (0, 2) for n in ("weight", "bias"))
        print("%-58s %s" % ("pruned weights still 0 after an SGD step (." + ext + ")", zero_kept))
        if not zero_kept:
            sys.exit("FAIL: sparsity lost")
    print("round trip OK; fixtures in", out)


if __name__ == "__main__":
    main()
