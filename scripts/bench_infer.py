#!/usr/bin/python3
"""Time CPU inference of obs models in PyTorch: a dense network and its
compacted unit-pruned version (obs prune --granularity unit), a CNN and its
filter-pruned version (--granularity filter), or any models.

Each MODEL is an obs model file (.json, written by obs train or obs prune) or
a weight file written by obs export (.npz: tensors "0.weight", "0.bias",
"2.weight", ... as nn.Sequential names them; give --act for those). The
network is built as nn.Sequential(Linear, act, ..., Linear) with the sizes
the file holds, so a compacted model runs as the smaller dense network it
is; the output activation is left out (it costs the same in both). A model
file of a network given by its layers (obs train --input --layers) is built
from its layer list: conv:OUT:K[:s=S][:p=P] as nn.Conv2d, linear:OUT as
nn.Linear, maxpool:K, avgpool:K, flatten and the activations. Timing:
the best of --repeats runs of a forward pass over --batch random inputs
under torch.no_grad(), float64 or --dtype float32, --threads threads, in
wall time and in process CPU time (the speed-up is of the CPU time).

Usage (Debian: apt-get install python3-torch):

  obs prune --model lenet.json --data mnist --granularity unit --sparsity 0.5 \\
      --structure block:128 --one-shot --out lenet-units.json
  /usr/bin/python3 scripts/bench_infer.py lenet.json lenet-units.json
  obs export --model lenet-units.json --out lenet-units.npz
  /usr/bin/python3 scripts/bench_infer.py --act relu lenet-units.npz
  /usr/bin/python3 scripts/bench_infer.py --act relu --arch 784-100-50-10,784-50-25-10

--arch times networks of the given shapes with random weights (the time of a
dense forward pass depends on the shapes alone).
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

ACTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity,
        "silu": nn.SiLU, "gelu": nn.GELU, "leakyrelu": nn.LeakyReLU}


def layers_json(path):
    """Weights and biases of an obs model file, and its hidden activation."""
    with open(path) as f:
        d = json.load(f)
    sizes, p, off, out = d["arch"], np.asarray(d["params"], dtype=np.float64), 0, []
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        blk = p[off:off + n_out * (n_in + 1)].reshape(n_out, n_in + 1)
        out.append((blk[:, :n_in], blk[:, n_in]))
        off += n_out * (n_in + 1)
    return out, d["hidden"]


def sequential_json(d, dtype):
    """The nn.Sequential of an obs model file given by its layers, with its
    parameters (each weight layer's rows in order, every row its weights in
    PyTorch's order and then its bias)."""
    p, off = np.asarray(d["params"], dtype=np.float64), 0
    shape, mods = list(d["input"]), []
    for item in d["layers"].split(","):
        f = item.split(":")
        opts = {o.split("=")[0]: int(o.split("=")[1]) for o in f[3:] if "=" in o}
        bias = "nobias" not in f
        if f[0] in ("conv", "linear"):
            out = int(f[1])
            if f[0] == "conv":
                k = int(f[2])
                m = nn.Conv2d(shape[0], out, k, stride=opts.get("s", 1), padding=opts.get("p", 0), bias=bias)
                n_in = shape[0] * k * k
                h = (shape[1] + 2 * opts.get("p", 0) - k) // opts.get("s", 1) + 1
                w = (shape[2] + 2 * opts.get("p", 0) - k) // opts.get("s", 1) + 1
                shape = [out, h, w]
            else:
                m = nn.Linear(shape[0], out, bias=bias)
                n_in, shape = shape[0], [out]
            row = n_in + (1 if bias else 0)
            blk = p[off:off + out * row].reshape(out, row)
            off += out * row
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.ascontiguousarray(blk[:, :n_in])).reshape(m.weight.shape))
                if bias:
                    m.bias.copy_(torch.from_numpy(np.ascontiguousarray(blk[:, n_in])))
            mods.append(m.to(dtype))
        elif f[0] in ("maxpool", "avgpool"):
            k = int(f[1])
            mods.append(nn.MaxPool2d(k) if f[0] == "maxpool" else nn.AvgPool2d(k))
            shape = [shape[0], shape[1] // k, shape[2] // k]
        elif f[0] == "flatten":
            mods.append(nn.Flatten())
            shape = [int(np.prod(shape))]
        else:
            mods.append(ACTS[f[0]]())
    macs = 0
    x = torch.zeros((1, *d["input"]), dtype=dtype)
    for m in mods:
        y = m(x)
        if isinstance(m, nn.Conv2d):
            macs += m.weight.numel() * y.shape[2] * y.shape[3]
        elif isinstance(m, nn.Linear):
            macs += m.weight.numel()
        x = y
    return nn.Sequential(*mods).eval(), macs


def layers_npz(path):
    z = np.load(path)
    idx = sorted(int(k.split(".")[0]) for k in z.files if k.endswith(".weight"))
    return [(z[f"{i}.weight"], z[f"{i}.bias"]) for i in idx]


def build(layers, act, dtype):
    mods = []
    for k, (w, b) in enumerate(layers):
        lin = nn.Linear(w.shape[1], w.shape[0]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
        mods.append(lin)
        if k < len(layers) - 1:
            mods.append(ACTS[act]())
    return nn.Sequential(*mods).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", metavar="MODEL")
    ap.add_argument("--arch", help="comma-separated shapes such as 784-100-50-10 to time with random weights (needs --act)")
    ap.add_argument("--act", help="hidden activation of .npz models: " + ", ".join(ACTS))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    rows, first = [], None
    items = list(a.models) + ["arch:" + x for x in (a.arch.split(",") if a.arch else [])]
    if not items:
        ap.error("give models or --arch")
    rng = np.random.default_rng(a.seed)
    for path in items:
        if path.startswith("arch:"):
            if a.act not in ACTS:
                ap.error("give --act for --arch")
            sz = [int(v) for v in path[5:].split("-")]
            layers, act = [(rng.standard_normal((o, i)) / np.sqrt(i), np.zeros(o)) for i, o in zip(sz, sz[1:])], a.act
        elif path.endswith(".npz"):
            if a.act not in ACTS:
                ap.error(f"{path}: give --act for an .npz model")
            layers, act = layers_npz(path), a.act
        else:
            with open(path) as f:
                d = json.load(f)
            if "layers" in d:
                net, macs = sequential_json(d, dtype)
                shape = d["input"]
                x = torch.from_numpy(np.random.default_rng(a.seed).standard_normal((a.batch, *shape))).to(dtype)
                arch = "cnn " + "x".join(str(c.out_channels) for c in net if isinstance(c, nn.Conv2d))
                layers = None
            else:
                layers, act = layers_json(path)
        if layers is not None:
            net = build(layers, act, dtype)
            sizes = [layers[0][0].shape[1]] + [w.shape[0] for w, _ in layers]
            macs = sum(w.size for w, _ in layers)
            arch = "-".join(map(str, sizes))
            x = torch.from_numpy(np.random.default_rng(a.seed).standard_normal((a.batch, sizes[0]))).to(dtype)
        with torch.no_grad():
            net(x)  # warm-up
            best, cpu = float("inf"), float("inf")
            for _ in range(a.repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                net(x)
                best = min(best, time.perf_counter() - t0)
                cpu = min(cpu, time.process_time() - c0)
        us, cus = best * 1e6 / a.batch, cpu * 1e6 / a.batch
        first = first or cus
        rows.append((path, arch, macs, us, cus, first / cus))
    print(f"torch {torch.__version__}, {a.dtype}, {a.threads} thread(s), batch {a.batch}, best of {a.repeats}")
    print(f"{'model':40s} {'arch':>18s} {'mult-adds':>10s} {'wall us/pat':>11s} {'cpu us/pat':>11s} {'speed-up':>9s}")
    for path, arch, macs, us, cus, sp in rows:
        print(f"{path:40s} {arch:>18s} {macs:10d} {us:11.3f} {cus:11.3f} {sp:8.2f}x")
    print("speed-up: of the process CPU time (best of the repeats), which a loaded machine distorts less than the wall time")


if __name__ == "__main__":
    main()
