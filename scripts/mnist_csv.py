#!/usr/bin/python3
"""Write MNIST's 60,000 training images as a CSV for obs's --split.

obs refuses --split on --data mnist (MNIST has its own test set), so a
validation split of the training images goes through a CSV: columns
p0..p783 and label, each pixel written as repr(k / 255.0), which obs reads
back as exactly float64(k) / 255, the value its MNIST loader gives.

  /usr/bin/python3 scripts/mnist_csv.py mnist_train.csv
  obs train --data mnist_train.csv --target label --split 0.1 --split-seed 1 \\
    --input 1x28x28 --layers "..." --loss ce --trainer adam --epochs 1 --out v.json
"""

import gzip
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "datasets", "mnist")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mnist_csv.py OUT.csv")
    with gzip.open(os.path.join(MNIST, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(MNIST, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    vals = [repr(k / 255.0) if k else "0" for k in range(256)]
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(",".join(f"p{i}" for i in range(784)) + ",label\n")
        for row, label in zip(x, y):
            f.write(",".join(vals[k] for k in row) + f",{label}\n")
    os.replace(tmp, sys.argv[1])


if __name__ == "__main__":
    main()
