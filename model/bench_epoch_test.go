//go:build unix

package model_test

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// benchEpoch times TrainMiniBatch's steps (Adam, batch 128) on 1,280
// random patterns, ten steps of an MNIST epoch of `obs train`; with
// -tags openblas (benchopenblas_test.go) the products run in OpenBLAS as
// in the obs binary. ms/step is wall time, cpu-ms/step the process's CPU
// time (user and system, all threads) per step, the figure to trust on a
// shared machine. Both builds are profiled by
//
//	GOMAXPROCS=1 go test ./model -run '^$' -bench TrainSteps -cpuprofile cpu.prof
func benchEpoch(b *testing.B, spec model.Spec) {
	m, err := model.New(spec)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	X, T := make([][]float64, 1280), make([][]float64, 1280)
	for p := range X {
		X[p] = make([]float64, m.NumInputs())
		for i := range X[p] {
			X[p][i] = rng.Float64()
		}
		T[p] = make([]float64, 10)
		T[p][rng.IntN(10)] = 1
	}
	b.ResetTimer()
	for range b.N {
		m.Init(rand.New(rand.NewPCG(1, 1)))
		var ru syscall.Rusage
		set := &model.MiniBatchSettings{Optimizer: model.Adam, Epochs: 1, BatchSize: 128, Seed: 1}
		var cpu0 float64
		set.Progress = func(p model.MiniBatchProgress) {
			if p.Batch == 1 { // the first step warms the scratch up
				cpu0 = cpuSeconds(&ru)
			}
		}
		res, err := model.TrainMiniBatch(m, X, T, set)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Seconds/float64(res.Steps)*1e3, "ms/step")
		b.ReportMetric((cpuSeconds(&ru)-cpu0)/float64(res.Steps-1)*1e3, "cpu-ms/step")
	}
}

func cpuSeconds(ru *syscall.Rusage) float64 {
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, ru); err != nil {
		panic(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkTrainStepsLeNet5(b *testing.B) {
	ls, err := model.ParseLayers("conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10")
	if err != nil {
		b.Fatal(err)
	}
	benchEpoch(b, model.Spec{Input: []int{1, 28, 28}, Layers: ls, Loss: model.CrossEntropy})
}

func BenchmarkTrainStepsLeNet300(b *testing.B) {
	benchEpoch(b, model.Spec{Sizes: []int{784, 300, 100, 10}, Hidden: model.ReLU, Loss: model.CrossEntropy})
}
