#!/usr/bin/python3
"""A PyTorch CNN with BatchNorm and bias-free convolutions, for obs import.

Trains (seeded, float64, a few epochs of Adam) the nn.Sequential

  0 Conv2d(1, 4, 3, padding=1, bias=False)   5 BatchNorm2d(6)
  1 BatchNorm2d(4)                           6 ReLU()
  2 ReLU()                                   7 Flatten()
  3 MaxPool2d(2)                             8 Linear(24, 10, bias=False)
  4 Conv2d(4, 6, 3, bias=False)              9 BatchNorm1d(10)
                                            10 ReLU()
                                            11 Linear(10, 3)

on synthetic 1x8x8 images (the class is the row band of a bright bar), so
that the BatchNorm running statistics and affine parameters are not trivial,
puts it in eval mode and writes into DIR:

  model.npz, model.safetensors  the state_dict, float64 (num_batches_tracked
                                int64, as PyTorch saves it)
  data.csv                      the patterns: p0..p63 (flat C*H*W), class
  torch_probs.csv               PyTorch's softmax outputs in eval mode
  torch_eval.json               its mean cross-entropy and accuracy

obs reads it with

  obs import --from DIR/model.npz --input 1x8x8 --layers "LAYERS" --loss ce

(LAYERS below, item i being module i of the Sequential), and the Go test
cmd/obs/cnn_import_test.go checks that obs eval and obs predict give
PyTorch's loss, accuracy and probabilities to 1e-9 relative.

With --obs BIN it also runs the round trip: obs import, obs prune --sparsity
0.8, obs export (with masks), then loads the export into the folded network
(BatchNorm folded: nn.Sequential of the spec without bn, the layers before
each bn with a bias) under torch.nn.utils.prune masks and checks that
PyTorch's accuracy and loss equal what obs eval reports for the pruned model.

  /usr/bin/python3 scripts/torch_cnn_import.py cmd/obs/testdata/torch_cnn [--obs /tmp/obs]

Debian's python3-torch and python3-numpy; .safetensors written from the
format's specification, as scripts/torch_roundtrip.py does.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_roundtrip import save_safetensors  # noqa: E402

torch.set_default_dtype(torch.float64)

LAYERS = "conv:4:3:p=1:nobias,bn,relu,maxpool:2,conv:6:3:nobias,bn,relu,flatten,linear:10:nobias,bn,relu,linear:3"
FOLDED = "conv:4:3:p=1,relu,maxpool:2,conv:6:3,relu,flatten,linear:10,relu,linear:3"
P = 96


def network():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(),
        nn.Linear(24, 10, bias=False), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 3))


def folded_network():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(24, 10), nn.ReLU(), nn.Linear(10, 3))


def data(seed):
    g = torch.Generator().manual_seed(seed)
    x = 0.8 * torch.randn(P, 1, 8, 8, generator=g)
    cls = torch.randint(0, 3, (P,), generator=g)
    for p in range(P):
        r = int(cls[p]) * 3 + int(torch.randint(0, 2, (1,), generator=g))
        x[p, 0, r, 1:7] += 0.8
    # Four decimals, so that the CSV is short and holds the exact values.
    return torch.round(x * 1e4) / 1e4, cls


def write_csv(path, x, cls):
    with open(path, "w") as f:
        f.write(",".join(f"p{i}" for i in range(x[0].numel())) + ",class\n")
        for p in range(len(x)):
            f.write(",".join(repr(v) for v in x[p].flatten().tolist()) + f",c{int(cls[p])}\n")


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def main():
    out = sys.argv[1]
    obs = sys.argv[sys.argv.index("--obs") + 1] if "--obs" in sys.argv else None
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)
    net = network()
    x, cls = data(7)
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for epoch in range(4):
        perm = torch.randperm(P)
        for i in range(0, P, 16):
            idx = perm[i:i + 16]
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), cls[idx]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        logits = net(x)
        probs = torch.softmax(logits, 1)
        loss = nn.functional.cross_entropy(logits, cls).item()
        acc = (logits.argmax(1) == cls).double().mean().item()
    sd = {k: v.numpy() for k, v in net.state_dict().items()}
    np.savez(os.path.join(out, "model.npz"), **sd)
    save_safetensors(os.path.join(out, "model.safetensors"), {k: v for k, v in sd.items() if v.dtype != np.int64})
    write_csv(os.path.join(out, "data.csv"), x, cls)
    np.savetxt(os.path.join(out, "torch_probs.csv"), probs.numpy(), delimiter=",", fmt="%.17g")
    with open(os.path.join(out, "torch_eval.json"), "w") as f:
        json.dump({"layers": LAYERS, "loss": loss, "accuracy": acc, "torch_version": torch.__version__}, f)
        f.write("\n")
    print(f"wrote {out}: loss {loss:.6f}, accuracy {acc:.4f}", file=sys.stderr)
    if obs is None:
        return

    with tempfile.TemporaryDirectory() as d:
        m, pr, ex = os.path.join(d, "m.json"), os.path.join(d, "p.json"), os.path.join(d, "p.npz")
        data_csv = os.path.join(out, "data.csv")
        run(obs, "import", "--from", os.path.join(out, "model.npz"), "--input", "1x8x8", "--layers", LAYERS, "--classes", "c0,c1,c2",
            "--loss", "ce", "--quiet", "--out", m)
        e = json.loads(run(obs, "eval", "--model", m, "--data", data_csv, "--target", "class", "--json", "--quiet"))
        assert abs(e["error"] - loss) <= 1e-9 * abs(loss), (e["error"], loss)
        assert abs(e["accuracy"] - acc) <= 1e-12, (e["accuracy"], acc)
        run(obs, "prune", "--model", m, "--data", data_csv, "--target", "class", "--method", "obs",
            "--structure", "block:128", "--sparsity", "0.8", "--quiet", "--out", pr)
        pe = json.loads(run(obs, "eval", "--model", pr, "--data", data_csv, "--target", "class", "--json", "--quiet"))
        run(obs, "export", "--model", pr, "--quiet", "--out", ex)
        z = dict(np.load(ex))
        fnet = folded_network()
        masks = {}
        for k in list(z):
            if k.endswith("_mask"):
                masks[k[:-5]] = torch.from_numpy(z.pop(k))
        fnet.load_state_dict({k: torch.from_numpy(v) for k, v in z.items()}, strict=True)
        for name, mk in masks.items():
            mod, field = name.rsplit(".", 1)
            torch.nn.utils.prune.custom_from_mask(fnet.get_submodule(mod), field, mk)
        fnet.eval()
        with torch.no_grad():
            lg = fnet(x)
            ploss = nn.functional.cross_entropy(lg, cls).item()
            pacc = (lg.argmax(1) == cls).double().mean().item()
        kept = sum(int(v.sum()) for k, v in masks.items() if k.endswith("weight"))
        total = sum(v.numel() for k, v in masks.items() if k.endswith("weight"))
        print(f"round trip: obs pruned E {pe['error']:.6g} accuracy {pe['accuracy']:.4f}; "
              f"PyTorch on the export E {ploss:.6g} accuracy {pacc:.4f}; {total - kept} of {total} weights masked", file=sys.stderr)
        assert abs(pe["error"] - ploss) <= 1e-9 * abs(ploss), (pe["error"], ploss)
        assert pe["accuracy"] == pacc, (pe["accuracy"], pacc)


if __name__ == "__main__":
    main()
