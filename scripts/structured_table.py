#!/usr/bin/env python3
"""Summarise scripts/structured's per-run CSVs as the Markdown tables of
docs/structured.md: one row per (method, granularity, target), the test
accuracy one-shot and after fine-tuning as the mean over the seeds and
their range (min-max), in percent.

    python3 scripts/structured_table.py runs-s1.csv runs-s2.csv runs-s3.csv

Standard library only. Rows keep the order of their first appearance; a
(seed, method, granularity, target) seen twice counts once.
"""
import csv
import sys


def main(paths):
    rows, seen = [], set()
    for p in paths:
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                # The dense row is written by every process of a seed.
                key = (r["seed"], r["method"], r["granularity"], r["target"])
                if key not in seen:
                    seen.add(key)
                    rows.append(r)
    if not rows:
        sys.exit("structured_table: no rows")
    dense = {}
    for r in rows:
        if r["method"] == "dense":
            dense[r["arch"]] = int(r["multiply_adds"])
    base = max(dense.values()) if dense else None
    groups = {}
    for r in rows:
        key = (r["method"], r["granularity"], r["target"])
        groups.setdefault(key, []).append(r)
    print("| method | granularity | target | network | multiply-adds | one shot: test accuracy, mean (range) % | after fine-tuning % | seeds |")
    print("|---|---|---|---|---|---|---|---|")
    for (method, gran, target), rs in groups.items():
        archs = sorted({r["arch"] for r in rs})
        macs = sorted({int(r["nonzero_multiply_adds"] if gran == "2:4" else r["multiply_adds"]) for r in rs})
        mac = "/".join(str(m) for m in macs)
        if gran == "2:4":
            mac += " nonzero of %s (same shape)" % "/".join(sorted({r["multiply_adds"] for r in rs}))
        elif base and method != "dense":
            mac += " (%.2f× fewer)" % (base / macs[0])

        def stat(col):
            v = [100 * float(r[col]) for r in rs]
            return "%.2f (%.2f–%.2f)" % (sum(v) / len(v), min(v), max(v))

        ft = "–" if method == "dense" else stat("test_accuracy_ft")
        seeds = ",".join(sorted({r["seed"] for r in rs}))
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (method, gran, target, "; ".join(a.replace("input 1x28x28, layers ", "") for a in archs), mac, stat("test_accuracy"), ft, seeds))


if __name__ == "__main__":
    main(sys.argv[1:])
