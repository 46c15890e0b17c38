package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// TestGradSumBitForBit checks that the parallel gradient (gradSum, which
// Grad and GradAccuracy take for large networks) gives the serial Grad's
// error and gradient and Accuracy's count bit for bit, and ErrorAccuracy
// Error's error and the same count, on ReLU networks
// (many zero cotangents) and sigmoid ones, with pruned parameters and
// weight decay, over several batches and a ragged last one.
func TestGradSumBitForBit(t *testing.T) {
	for _, spec := range []Spec{
		{Sizes: []int{13, 20, 7, 4}, Hidden: ReLU, Output: Softmax, Loss: CrossEntropy, Decay: 1e-3},
		{Sizes: []int{9, 30, 3}, Hidden: Sigmoid, Output: Sigmoid, Loss: SquaredError},
		{Sizes: []int{5, 8, 1}, Hidden: Tanh, Output: Sigmoid, Loss: BinaryCrossEntropy, Decay: 1e-2},
		{Sizes: []int{37, 45, 23, 10}, Hidden: Tanh, Output: Softmax, Loss: CrossEntropy, Decay: 1e-3}, // row tiles of the lanes (lanes.go), ragged in rows and columns
	} {
		m, err := New(spec)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		m.Init(rng)
		for q := range m.Params {
			if rng.IntN(7) == 0 {
				m.Prune(q)
			}
		}
		P := 3*gradBatch + 11
		X, T := make([][]float64, P), make([][]float64, P)
		K := spec.Sizes[len(spec.Sizes)-1]
		for p := range X {
			X[p] = make([]float64, spec.Sizes[0])
			for i := range X[p] {
				X[p][i] = rng.NormFloat64()
				if rng.IntN(4) == 0 {
					X[p][i] = 0
				}
			}
			T[p] = make([]float64, K)
			if K == 1 {
				T[p][0] = float64(rng.IntN(2))
			} else {
				T[p][rng.IntN(K)] = 1
			}
		}
		ws := m.NewWorkspace()
		want := make([]float64, len(m.Params))
		if m.gradSumOK(P) {
			t.Fatal("the test network is large enough for gradSum: Grad would not be the serial reference")
		}
		e := m.Grad(ws, want, X, T)
		acc := m.Accuracy(ws, X, T)
		got := make([]float64, len(m.Params))
		for i := range got {
			got[i] = math.NaN()
		}
		e2, right := m.gradSum(got, X, T, true)
		if math.Float64bits(e) != math.Float64bits(e2) {
			t.Errorf("%v: E %v, serial %v", spec.Sizes, e2, e)
		}
		if a := float64(right) / float64(P); a != acc {
			t.Errorf("%v: accuracy %v, serial %v", spec.Sizes, a, acc)
		}
		for q := range want {
			if math.Float64bits(got[q]) != math.Float64bits(want[q]) {
				t.Fatalf("%v: gradient %d: %v, serial %v", spec.Sizes, q, got[q], want[q])
			}
		}
		we := m.Error(ws, X, T)
		for _, workers := range []int{1, 2, 3} {
			e3, right3 := m.errorAccuracy(X, T, workers)
			if math.Float64bits(e3) != math.Float64bits(we) || float64(right3)/float64(P) != acc {
				t.Errorf("%v: %d workers: E %v and accuracy %v, serial %v and %v", spec.Sizes, workers, e3, float64(right3)/float64(P), we, acc)
			}
		}
		if e4, right4 := m.ErrorAccuracy(ws, X, T); math.Float64bits(e4) != math.Float64bits(we) || float64(right4)/float64(P) != acc {
			t.Errorf("%v: ErrorAccuracy %v and %v, serial %v and %v", spec.Sizes, e4, float64(right4)/float64(P), we, acc)
		}
	}
}

// BenchmarkGradSum times the gradient and accuracy of a 784-1000-1000-10
// ReLU network over 1,000 random patterns: "serial" is Grad's loop (one
// per-pattern gradient of 1.8M entries formed and added per pattern) and
// Accuracy's second pass, "parallel" GradAccuracy.
func BenchmarkGradSum(b *testing.B) {
	m, err := New(Spec{Sizes: []int{784, 1000, 1000, 10}, Hidden: ReLU, Output: Softmax, Loss: CrossEntropy})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	m.Init(rng)
	P := 1000
	X, T := make([][]float64, P), make([][]float64, P)
	for p := range X {
		X[p] = make([]float64, 784)
		for i := range X[p] {
			X[p][i] = rng.Float64()
		}
		T[p] = make([]float64, 10)
		T[p][rng.IntN(10)] = 1
	}
	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			for i := range grad {
				grad[i] = 0
			}
			for p := range X {
				m.PatternGrad(ws, ws.col, X[p], T[p])
				floats.Add(grad, ws.col)
			}
			m.Accuracy(ws, X, T)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		for b.Loop() {
			m.GradAccuracy(ws, grad, X, T)
		}
	})
}

// A large network with a Conv2d (n P at least 2^26) takes the batched
// passes in GradAccuracy and ErrorAccuracy: the same count as Accuracy's,
// E and the gradient equal to Grad's and Error's to rounding; an MLP of
// the same size does not.
func TestGradAccuracyBatchedForConv(t *testing.T) {
	if testing.Short() {
		t.Skip("33,000 per-pattern gradients; skipped with -short")
	}
	ls, err := ParseLayers("conv:4:3,relu,flatten,linear:30,tanh,linear:3")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Spec{Input: []int{1, 6, 6}, Layers: ls, Loss: CrossEntropy, Decay: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(3, 4)))
	m.Prune(5)
	P := gradSumMin/len(m.Params) + 1
	X, T := randomData(m, P, 6)
	if !m.batchedEvalOK(P) || m.batchedEvalOK(P/2) {
		t.Fatalf("batchedEvalOK(%d) = %v, (%d) = %v", P, m.batchedEvalOK(P), P/2, m.batchedEvalOK(P/2))
	}
	if mlp := randomNet(t, derivativeCases()[0], 1); mlp.batchedEvalOK(gradSumMin) {
		t.Error("an MLP takes the batched passes")
	}
	ws := m.NewWorkspace()
	want := make([]float64, len(m.Params))
	we := m.Grad(ws, want, X, T)
	acc := m.Accuracy(ws, X, T)
	got := make([]float64, len(m.Params))
	e, right := m.GradAccuracy(ws, got, X, T)
	if math.Abs(e-we) > 1e-12*math.Abs(we) || float64(right)/float64(P) != acc {
		t.Errorf("GradAccuracy: E %v, accuracy %v; Grad %v, Accuracy %v", e, float64(right)/float64(P), we, acc)
	}
	floats.Sub(got, want)
	if d, n := floats.Norm(got, 2), floats.Norm(want, 2); d > 1e-10*n {
		t.Errorf("gradient differs by %v (norm %v)", d, n)
	}
	e2, right2 := m.ErrorAccuracy(ws, X, T)
	if ee := m.Error(ws, X, T); math.Abs(e2-ee) > 1e-12*math.Abs(ee) || right2 != right {
		t.Errorf("ErrorAccuracy %v, %d; Error %v, count %d", e2, right2, ee, right)
	}
}
