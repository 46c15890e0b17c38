package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// batchHVTol: the batched R-operator and HessVec compute the same sums of
// P per-pattern terms (entries of order 1..10 for these random networks) in
// a different order and grouping (gemm tiles, 1/P applied per term rather
// than at the end), so they agree to rounding, ~1e-15 relative; 1e-11
// leaves room for cancellation while any wrong term (O(1e-2) or larger)
// fails.
const batchHVTol = 1e-11

// checkBatchHV compares the batched product (dense or sparse layer 1) with
// HessVec for two directions, one with junk at the pruned entries, at the
// same prepared point.
func checkBatchHV(t *testing.T, m *MLP, X, T [][]float64, sparse bool) {
	t.Helper()
	n := len(m.Params)
	ws := m.NewWorkspace()
	h := m.newBatchHV(X, T, sparse)
	eGot := h.prepare()
	rng := rand.New(rand.NewPCG(51, 52))
	for k := range 2 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		if k == 1 {
			for q, p := range m.Pruned {
				if p {
					v[q] = 1e3
				}
			}
		}
		want := make([]float64, n)
		eWant := m.HessVec(ws, want, v, X, T)
		if !near(eGot, eWant, batchHVTol) {
			t.Errorf("E = %v, HessVec's E = %v", eGot, eWant)
		}
		got := make([]float64, n)
		h.product(got, v)
		for q := range want {
			if !near(got[q], want[q], batchHVTol) {
				t.Fatalf("sparse=%v direction %d: (Hv)[%d] (%s) = %v, HessVec %v", sparse, k, q, m.Name(q), got[q], want[q])
			}
			if m.Pruned[q] && got[q] != 0 {
				t.Fatalf("pruned (Hv)[%d] = %v", q, got[q])
			}
		}
	}
}

// The batched Hessian-vector product equals HessVec (itself checked against
// the dense Hessian and finite differences of the gradient in
// TestWholeSetDerivatives) for every activation and loss, with pruned
// parameters, on more patterns than one block (evalChunk) for one case.
func TestBatchHessVecMatchesHessVec(t *testing.T) {
	cases := batchCases(Tanh)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 61)
			P := 23
			if c.name == "hidden=sigmoid/out=sigmoid/loss=mse" {
				P = evalChunk + 77
			}
			X, T := randomData(m, P, 62)
			checkBatchHV(t, m, X, T, false)
			// The sparse layer-1 path must give the same on dense inputs.
			checkBatchHV(t, m, X, T, true)
			// BatchHessVec is prepare and product in one call.
			v := make([]float64, len(m.Params))
			for i := range v {
				v[i] = float64(i%5) - 2
			}
			got, want := make([]float64, len(v)), make([]float64, len(v))
			m.BatchHessVec(got, v, X, T)
			m.HessVec(m.NewWorkspace(), want, v, X, T)
			for q := range want {
				if !near(got[q], want[q], batchHVTol) {
					t.Fatalf("BatchHessVec[%d] = %v, HessVec %v", q, got[q], want[q])
				}
			}
		})
	}
}

// On one-hot windows (the NETtalk inputs) with pruned layer-1 weights, the
// sparse layer-1 path equals HessVec, across more than one block.
func TestBatchHessVecSparseInputs(t *testing.T) {
	for _, c := range derivativeCases()[:5] {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.Sizes = append([]int{3 * 29}, spec.Sizes[1:]...)
			m, err := New(spec)
			if err != nil {
				t.Fatal(err)
			}
			m.Init(rand.New(rand.NewPCG(7, 7)))
			m.Prune(0)
			m.Prune(3*29 + 5)
			m.Prune(m.Offset(2) + 1)
			_, T := randomData(m, evalChunk+50, 33)
			rng := rand.New(rand.NewPCG(8, 8))
			X := make([][]float64, len(T))
			for p := range X {
				X[p] = make([]float64, 3*29)
				for w := 0; w < 3; w++ {
					X[p][w*29+rng.IntN(29)] = 1
				}
			}
			checkBatchHV(t, m, X, T, true)
			checkBatchHV(t, m, X, T, false)
		})
	}
}

// The batched products are symmetric (u^T H v = v^T H u over the free
// parameters): a check independent of HessVec.
func TestBatchHessVecSymmetric(t *testing.T) {
	for _, c := range derivativeCases() {
		m := randomNet(t, c, 71)
		X, T := randomData(m, 9, 72)
		h := m.newBatchHV(X, T, false)
		h.prepare()
		n := len(m.Params)
		rng := rand.New(rand.NewPCG(73, 74))
		u, v := make([]float64, n), make([]float64, n)
		for i := range u {
			u[i], v[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		m.ApplyMask(u, v)
		hu, hv := make([]float64, n), make([]float64, n)
		h.product(hu, u)
		h.product(hv, v)
		if a, b := floats.Dot(u, hv), floats.Dot(v, hu); !near(a, b, exactTol*float64(n)) {
			t.Errorf("%s: u^T H v = %v but v^T H u = %v", c.name, a, b)
		}
	}
}

// BenchmarkHessVecNettalk times one exact Hessian-vector product at
// NETtalk's size (203-80-26 sigmoid, squared error, 5,603 one-hot windows
// of 7 letters, random targets): per pattern as the polish ran it before
// (HessVec on hvChunks goroutines), and batched with layer 1 over the
// non-zero inputs (the forward and backward passes prepared once, as in a
// CG solve; prepare timed on its own):
//
//	go test -run='^$' -bench=HessVecNettalk -benchtime=5x ./model
func BenchmarkHessVecNettalk(b *testing.B) {
	m, _ := New(Spec{Sizes: []int{203, 80, 26}, Hidden: Sigmoid, Output: Sigmoid, Loss: SquaredError, Decay: 1e-4})
	m.Init(rand.New(rand.NewPCG(1, 1)))
	const P = 5603
	rng := rand.New(rand.NewPCG(2, 2))
	X, T := make([][]float64, P), make([][]float64, P)
	for p := range X {
		X[p], T[p] = make([]float64, 203), make([]float64, 26)
		for w := range 7 {
			X[p][w*29+rng.IntN(29)] = 1
		}
		for k := range T[p] {
			T[p][k] = float64(rng.IntN(2))
		}
	}
	v := make([]float64, len(m.Params))
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	dst := make([]float64, len(v))
	b.Run("per-pattern", func(b *testing.B) {
		set := TrainSettings{}
		_ = set.resolve()
		tr := &trainer{m: m, X: X, T: T, set: set, free: m.Free()}
		c := newNewtonCG(tr, len(tr.free))
		for range b.N {
			c.hv(dst, v, 0)
		}
	})
	h := m.newBatchHV(X, T, true)
	b.Run("batched-prepare", func(b *testing.B) {
		for range b.N {
			h.prepare()
		}
	})
	b.Run("batched-product", func(b *testing.B) {
		for range b.N {
			h.product(dst, v)
		}
	})
	// The Jacobi preconditioner of the batched polish, once per CG solve.
	b.Run("ggn-diagonal", func(b *testing.B) {
		for range b.N {
			m.GGNDiagonal(X, T)
		}
	})
}
