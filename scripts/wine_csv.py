#!/usr/bin/python3
"""Write sklearn's wine data as a user has it: a header row, the 13 raw
(unscaled) features and a column "class" with the UCI labels 1, 2, 3.

Reads the copy bundled with Debian's python3-sklearn (sklearn.datasets.load_wine,
a copy of UCI's wine.data, CC BY 4.0; Forina et al., PARVUS; UCI Machine
Learning Repository data set 109). sklearn numbers the classes 0, 1, 2; the UCI
file, which sklearn copies, numbers them 1, 2, 3, and so does this CSV.

Usage: /usr/bin/python3 scripts/wine_csv.py cmd/obs/testdata/wine.csv
"""
import csv
import sys

from sklearn.datasets import load_wine


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "wine.csv"
    d = load_wine()
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(d.feature_names) + ["class"])
        for x, y in zip(d.data, d.target):
            w.writerow(["%.10g" % v for v in x] + [int(y) + 1])


if __name__ == "__main__":
    main()
