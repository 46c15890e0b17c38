#!/usr/bin/python3
"""Time one training epoch of LeNet-300-100 on MNIST in obs and in PyTorch.

Both train 784-300-100-10 (ReLU hidden, softmax cross-entropy) with Adam
(lr 1e-3) on the 60,000 MNIST training images in shuffled mini-batches of the
same size, on the CPU with the same number of threads. obs reports the wall
time of its training loop alone (train_seconds in `obs train --json`: no
data loading, no evaluation); the PyTorch loop is timed the same way.
PyTorch runs in float32 (its default) and in float64 (obs's precision).

Usage (Debian: apt-get install python3-torch python3-numpy):

  /usr/bin/python3 scripts/bench_train.py [--batch 128] [--threads 2] [--tags openblas]

--tags openblas builds obs with OpenBLAS (apt-get install libopenblas-dev
liblapacke-dev). The machine may be shared: run it when it is idle, and
repeat (--repeats) to see the spread.
"""

import argparse
import gzip
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "datasets", "mnist")


def idx(name, offset):
    with gzip.open(os.path.join(MNIST, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def torch_epoch(batch, dtype, seed):
    x = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0, dtype=dtype)
    y = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 300), torch.nn.ReLU(),
        torch.nn.Linear(300, 100), torch.nn.ReLU(),
        torch.nn.Linear(100, 10)).to(dtype)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], batch):
        idx_b = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(net(x[idx_b]), y[idx_b])
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def obs_epoch(binary, batch, seed, threads):
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            [binary, "train", "--data", "mnist", "--act", "relu", "--loss", "ce",
             "--trainer", "adam", "--epochs", "1", "--batch", str(batch),
             "--seed", str(seed), "--quiet", "--json", "--out", os.path.join(d, "m.json")],
            check=True, capture_output=True, text=True,
            env=dict(os.environ, GOMAXPROCS=str(threads), OPENBLAS_NUM_THREADS=str(threads)))
        s = json.loads(out.stdout)
        return s["train_seconds"], s["test_accuracy"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--tags", default="", help="Go build tags for obs, e.g. openblas")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as d:
        binary = os.path.join(d, "obs")
        cmd = ["go", "build", "-o", binary]
        if args.tags:
            cmd += ["-tags", args.tags]
        subprocess.run(cmd + ["./cmd/obs"], check=True, cwd=ROOT)
        rows = []
        for r in range(args.repeats):
            t_obs, acc = obs_epoch(binary, args.batch, r + 1, args.threads)
            t32 = torch_epoch(args.batch, torch.float32, r + 1)
            t64 = torch_epoch(args.batch, torch.float64, r + 1)
            rows.append((t_obs, t32, t64, acc))
    print(f"LeNet-300-100, one epoch of MNIST (60,000), Adam, batch {args.batch}, "
          f"{args.threads} threads, obs build tags: {args.tags or 'none (pure Go)'}; "
          f"torch {torch.__version__}")
    print("| run | obs (float64) s | PyTorch float32 s | PyTorch float64 s | obs / torch32 | obs / torch64 | obs test acc after 1 epoch |")
    print("|---|---|---|---|---|---|---|")
    for i, (t_obs, t32, t64, acc) in enumerate(rows):
        print(f"| {i + 1} | {t_obs:.2f} | {t32:.2f} | {t64:.2f} | {t_obs / t32:.2f} | {t_obs / t64:.2f} | {100 * acc:.2f}% |")


if __name__ == "__main__":
    main()
