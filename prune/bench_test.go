package prune

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// benchNet is a ReLU network with softmax cross-entropy, seeded Glorot
// weights, and P seeded random inputs in [0, 1) with one-hot random
// classes: the shape of an MNIST problem without MNIST.
func benchNet(b *testing.B, sizes []int, P int) (*model.MLP, *datasets.Set) {
	b.Helper()
	m, err := model.New(model.Spec{Sizes: sizes, Hidden: model.ReLU, Output: model.Softmax, Loss: model.CrossEntropy})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	m.Init(rng)
	s := &datasets.Set{Name: "random"}
	K := sizes[len(sizes)-1]
	for p := 0; p < P; p++ {
		x := make([]float64, sizes[0])
		for i := range x {
			x[i] = rng.Float64()
		}
		t := make([]float64, K)
		t[rng.IntN(K)] = 1
		s.Inputs = append(s.Inputs, x)
		s.Targets = append(s.Targets, t)
	}
	return m, s
}

// BenchmarkOneShot is one-shot OBS with the GGN in blocks of 128, M
// patterns, to 90% sparsity (prune.OneShot: one build, every deletion by
// downdate), reporting the build's and the deletions' seconds apart.
// "small" (100-30-10, M = 200) runs in a second, "32k" (100-300-10, 33,310
// parameters, M = 1000; the case where the openblas build was slower than
// pure Go) in a few, "deletions" (784-100-10, 79,510 parameters, M = 50) is
// mostly its 71,559 deletions; the LeNet-300-100
// (784-300-100-10, 266,610 parameters, M = 1000) runs only with
// OBS_BENCH_LENET=1, and scripts/bench_oneshot.sh runs it under
// /usr/bin/time -v for the peak memory; "big" (784-1000-1000-10, 1.8M
// parameters, M = 1000) only with OBS_BENCH_BIG=1:
//
//	OBS_BENCH_LENET=1 go test -run='^$' -bench=OneShot/lenet -benchtime=1x ./prune
func BenchmarkOneShot(b *testing.B) {
	for _, c := range []struct {
		name  string
		sizes []int
		P     int
	}{
		{"small", []int{100, 30, 10}, 200},
		{"32k", []int{100, 300, 10}, 1000},
		{"deletions", []int{784, 100, 10}, 50},
		{"lenet", []int{784, 300, 100, 10}, 1000},
		{"big", []int{784, 1000, 1000, 10}, 1000},
	} {
		b.Run(fmt.Sprintf("%s/M=%d/B=128", c.name, c.P), func(b *testing.B) {
			if c.name == "lenet" && os.Getenv("OBS_BENCH_LENET") == "" {
				b.Skip("set OBS_BENCH_LENET=1 to run LeNet-300-100 (about a minute)")
			}
			if c.name == "big" && os.Getenv("OBS_BENCH_BIG") == "" {
				b.Skip("set OBS_BENCH_BIG=1 to run 784-1000-1000-10 (minutes, 4 GB)")
			}
			m, s := benchNet(b, c.sizes, c.P)
			var build time.Duration
			cfg := Config{Method: OBS, Curvature: hessian.GGN, Structure: Blocks{Size: 128}, Sparsity: 0.9,
				Rebuilt: func(_ int, took time.Duration) { build = took }}
			for b.Loop() {
				net := m.Clone()
				start := time.Now()
				res, err := OneShot(net, s.Inputs, s.Targets, cfg)
				if err != nil {
					b.Fatal(err)
				}
				all := time.Since(start)
				b.ReportMetric(build.Seconds(), "build-s")
				b.ReportMetric((all - build).Seconds(), "rest-s")
				b.ReportMetric(float64(len(res.Removed))/(all-build).Seconds(), "deletions/s")
				b.ReportMetric(float64(len(res.Removed)), "deleted")
				b.ReportMetric(res.End.TrainError-res.Start.TrainError, "dE")
				b.ReportMetric(res.Predicted, "predicted")
			}
		})
	}
}
