#!/bin/sh
# One-shot OBS on LeNet-300-100 (784-300-100-10, 266,610 parameters, ReLU,
# softmax cross-entropy, seeded random weights and M = 1000 random inputs):
# GGN in blocks of 128, to 90% sparsity, the curvature built once and every
# deletion by downdate (prune.OneShot). Prints the benchmark line and the
# time and peak memory from /usr/bin/time -v. The issue's goal: < 2 minutes
# on 2 cores in the pure-Go build, < 2 GiB.
#
#   sh scripts/bench_oneshot.sh
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/prune.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./prune
OBS_BENCH_LENET=1 /usr/bin/time -v "$bin" -test.run '^$' -test.bench 'OneShot/lenet' -test.benchtime 1x 2>&1 |
	grep -E 'Benchmark|Elapsed|User time|System time|Maximum resident|Percent of CPU'
