#!/usr/bin/python3
"""Time one MNIST training epoch of LeNet-300-100 and LeNet-5 in obs and PyTorch.

Both networks train with Adam (lr 1e-3, PyTorch's betas and eps) on the
60,000 MNIST training images in shuffled mini-batches of the same size, softmax
cross-entropy, on the CPU with the same number of threads:

  lenet300  784-300-100-10, ReLU hidden layers
            (obs train --act relu, the MLP shorthand's default network)
  lenet5    conv 6@5x5 pad 2, ReLU, maxpool 2, conv 16@5x5, ReLU, maxpool 2,
            flatten, 120, ReLU, 84, ReLU, 10 (the classic 6-16-120-84 of
            docs/cnn.md; obs train --input 1x28x28 --layers ...)

obs reports the wall time of its epochs alone (train_seconds in
`obs train --json`: no data loading, no evaluation); the PyTorch loop is timed
the same way (shuffle, batches, forward, backward, Adam step). PyTorch runs in
float64 (obs's precision) and float32 (its default). Threads: obs runs with
GOMAXPROCS=T and OPENBLAS_NUM_THREADS=T, PyTorch with torch.set_num_threads(T)
(each configuration of PyTorch in its own process, since the thread count of
a process is fixed once set).

Usage (Debian: apt-get install python3-torch python3-numpy, and for the
OpenBLAS build libopenblas-dev liblapacke-dev):

  /usr/bin/python3 scripts/bench_train.py

builds obs twice (pure Go and -tags openblas) into a temporary directory;
--obs BIN and --obs-openblas BIN time given binaries instead, --no-openblas
skips that build.

Options: --nets lenet300,lenet5, --threads 1,2, --batch 128, --repeats N,
--skip-torch32. The machine may be shared: the script prints the load average
before and after; run it when the machine is idle and repeat to see the spread.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "datasets", "mnist")

LENET5 = ("conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,"
          "linear:120,relu,linear:84,relu,linear:10")

OBS_ARGS = {
    "lenet300": ["--act", "relu"],
    "lenet5": ["--input", "1x28x28", "--layers", LENET5],
}


def idx(name, offset):
    with gzip.open(os.path.join(MNIST, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def torch_net(torch, net):
    nn = torch.nn
    if net == "lenet300":
        return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def torch_child(net, dtype_name, threads, batch, seed):
    """Runs in a child process: one epoch, prints its seconds and test accuracy."""
    import torch
    torch.set_num_threads(threads)
    dtype = {"float32": torch.float32, "float64": torch.float64}[dtype_name]
    shape = (-1, 784) if net == "lenet300" else (-1, 1, 28, 28)
    x = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(shape) / 255.0, dtype=dtype)
    y = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    xt = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(shape) / 255.0, dtype=dtype)
    yt = torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
    torch.manual_seed(seed)
    model = torch_net(torch, net).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], batch):
        b = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[b]), y[b])
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).double().mean().item()
    print(json.dumps({"seconds": seconds, "test_accuracy": acc, "torch": torch.__version__}))


def torch_epoch(net, dtype_name, threads, batch, seed):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", net, dtype_name,
                          str(threads), str(batch), str(seed)],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    return json.loads(out.stdout)


def obs_epoch(binary, net, threads, batch, seed):
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            [binary, "train", "--data", "mnist"] + OBS_ARGS[net] +
            ["--loss", "ce", "--trainer", "adam", "--epochs", "1", "--batch", str(batch),
             "--seed", str(seed), "--quiet", "--json", "--out", os.path.join(d, "m.json")],
            check=True, capture_output=True, text=True, cwd=ROOT,
            env=dict(os.environ, GOMAXPROCS=str(threads), OPENBLAS_NUM_THREADS=str(threads)))
        s = json.loads(out.stdout)
        return {"seconds": s["train_seconds"], "test_accuracy": s["test_accuracy"]}


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        net, dtype_name, threads, batch, seed = sys.argv[2:7]
        torch_child(net, dtype_name, int(threads), int(batch), int(seed))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--obs", help="obs binary built without tags (pure Go)")
    ap.add_argument("--obs-openblas", help="obs binary built with -tags openblas")
    ap.add_argument("--nets", default="lenet300,lenet5")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-torch32", action="store_true")
    ap.add_argument("--no-openblas", action="store_true", help="time the pure-Go build only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        for attr, tags in (("obs", None), ("obs_openblas", "openblas")):
            if getattr(args, attr) or (tags and args.no_openblas):
                continue
            binary = os.path.join(d, attr)
            cmd = ["go", "build", "-o", binary] + (["-tags", tags] if tags else []) + ["./cmd/obs"]
            subprocess.run(cmd, check=True, cwd=ROOT)
            setattr(args, attr, binary)
        run(args)


def run(args):
    nets = args.nets.split(",")
    for n in nets:
        if n not in OBS_ARGS:
            sys.exit(f"bench_train.py: unknown net {n!r} (want lenet300 or lenet5)")
    threads = [int(t) for t in args.threads.split(",")]

    before = load()
    print(f"load average before: {before}", file=sys.stderr)
    rows = []
    version = "?"
    for net in nets:
        for t in threads:
            for r in range(args.repeats):
                seed = args.seed + r
                row = {"net": net, "threads": t, "run": r + 1}
                for key, binary in (("go", args.obs), ("blas", args.obs_openblas)):
                    if binary:
                        row[key] = obs_epoch(binary, net, t, args.batch, seed)
                        print(f"{net} T={t} obs {key}: {row[key]}", file=sys.stderr)
                for dt in ("float64",) + (() if args.skip_torch32 else ("float32",)):
                    res = torch_epoch(net, dt, t, args.batch, seed)
                    version = res["torch"]
                    row[dt] = res
                    print(f"{net} T={t} torch {dt}: {res}", file=sys.stderr)
                rows.append(row)
    after = load()
    print(f"load average after: {after}", file=sys.stderr)

    def sec(row, key):
        return f"{row[key]['seconds']:.2f}" if key in row else "-"

    def ratio(row, key):
        if key in row and "float64" in row:
            return f"{row[key]['seconds'] / row['float64']['seconds']:.2f}"
        return "-"

    def acc(row, key):
        return f"{100 * row[key]['test_accuracy']:.2f}%" if key in row else "-"

    print(f"One epoch of MNIST (60,000 images), Adam lr 1e-3, batch {args.batch}; "
          f"torch {version}; seconds of the training loop; load average before {before}, after {after}")
    print("| net | threads | run | obs pure Go | obs OpenBLAS | PyTorch float64 | PyTorch float32 "
          "| pure Go / torch64 | OpenBLAS / torch64 | test acc obs Go / OpenBLAS / torch64 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['net']} | {row['threads']} | {row['run']} | {sec(row, 'go')} | {sec(row, 'blas')} "
              f"| {sec(row, 'float64')} | {sec(row, 'float32')} | {ratio(row, 'go')} | {ratio(row, 'blas')} "
              f"| {acc(row, 'go')} / {acc(row, 'blas')} / {acc(row, 'float64')} |")


if __name__ == "__main__":
    main()
