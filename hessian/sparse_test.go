package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// sparseTol bounds the relative (max-entry) difference between the sparse
// and the dense rank-1 builds: the same products summed in another order,
// so rounding of a few ulps per pattern.
const sparseTol = 1e-13

// oneHotWindow returns P patterns of a window of win positions with syms
// symbols each (one 1 per position, like NETtalk's input) and targets suited
// to m's loss.
func oneHotWindow(m *model.MLP, win, syms, P int, seed uint64) (X, T [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 13))
	_, T = randomData(m, P, seed)
	X = make([][]float64, P)
	for p := range X {
		X[p] = make([]float64, win*syms)
		for w := 0; w < win; w++ {
			X[p][w*syms+rng.IntN(syms)] = 1
		}
	}
	return X, T
}

func TestSparseEqualsDense(t *testing.T) {
	const win, syms = 3, 29 // a 3-letter NETtalk window
	cases := []struct {
		name string
		spec model.Spec
	}{
		{"nettalk-3-5-26", model.Spec{Sizes: []int{win * syms, 5, 26}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 1e-4}},
		{"tanh-two-hidden-bce", model.Spec{Sizes: []int{win * syms, 4, 3, 5}, Hidden: model.Tanh, Output: model.Sigmoid, Loss: model.BinaryCrossEntropy, Decay: 0.01}},
		{"relu-ce", model.Spec{Sizes: []int{win * syms, 4, 3}, Hidden: model.ReLU, Output: model.Softmax, Loss: model.CrossEntropy}},
	}
	for _, tc := range cases {
		for _, kind := range []Kind{GGN, EmpiricalFisher} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, kind), func(t *testing.T) {
				m := randomNet(t, netCase{spec: tc.spec}, 3)
				// Prune a few weights of every layer and a bias.
				for _, q := range []int{0, 5, 29 + 1, m.Offset(1) + win*syms, m.Offset(2) + 1, len(m.Params) - 1} {
					m.Prune(q)
				}
				X, T := oneHotWindow(m, win, syms, 40, 5)
				want := dense(mustNew(t, kind, m, X, T, nil))
				sp, err := NewSparse(kind, m, X, T)
				if err != nil {
					t.Fatal(err)
				}
				if !sp.(*sparse).plan().sparse1 {
					t.Fatal("one-hot windows were not taken as sparse inputs")
				}
				got := dense(sp)
				dg, dw := make([]float64, sp.Dim()), make([]float64, sp.Dim())
				sp.Diag(dg)
				mustNew(t, kind, m, X, T, nil).Diag(dw)
				for i := range dg {
					if math.Abs(dg[i]-dw[i]) > sparseTol*math.Max(1, math.Abs(dw[i])) {
						t.Fatalf("sparse diagonal [%d] = %v, dense %v", i, dg[i], dw[i])
					}
				}
				scale := mat.Norm(want, math.Inf(1))
				if d := maxAbsDiff(got, want); d > sparseTol*scale {
					t.Fatalf("sparse and dense builds differ by %.3g (scale %.3g)", d, scale)
				}
			})
		}
	}
	// Dense inputs: every layer is grouped by unit (one product per layer
	// pair), the path of networks whose inputs are not sparse.
	for _, kind := range []Kind{GGN, EmpiricalFisher} {
		m := randomNet(t, netCase{spec: cases[1].spec}, 4)
		m.Prune(3)
		X, T := randomData(m, 30, 8)
		want := dense(mustNew(t, kind, m, X, T, nil))
		sp, err := NewSparse(kind, m, X, T)
		if err != nil {
			t.Fatal(err)
		}
		if sp.(*sparse).plan().sparse1 {
			t.Fatal("random dense inputs were taken as sparse")
		}
		if d, scale := maxAbsDiff(dense(sp), want), mat.Norm(want, math.Inf(1)); d > sparseTol*scale {
			t.Fatalf("dense inputs, %v: sparse and dense builds differ by %.3g (scale %.3g)", kind, d, scale)
		}
	}
	// Bit-identical for any number of goroutines: every group of rows is
	// computed the same way whatever the scheduling.
	m := randomNet(t, netCase{spec: cases[0].spec}, 1)
	X, T := oneHotWindow(m, win, syms, 37, 1)
	sp, _ := NewSparse(GGN, m, X, T)
	procs := runtime.GOMAXPROCS(1)
	one := dense(sp)
	runtime.GOMAXPROCS(3)
	three := dense(sp)
	runtime.GOMAXPROCS(procs)
	if !mat.Equal(one, three) {
		t.Fatal("the sparse build differs between 1 and 3 goroutines")
	}
	if _, err := NewSparse(Exact, m, X, T); err == nil {
		t.Fatal("NewSparse accepted the exact Hessian")
	}
}

// BenchmarkSparseGGN compares the sparse build of a NETtalk-like GGN (one-hot
// windows of 29 symbols, sigmoid hidden and outputs, squared error) with
// the dense rank-1 build of the same matrix (the destination matrix is
// touched before timing, so neither pays for first-touch page faults):
//
//	go test -run='^$' -bench=SparseGGN -benchtime=1x -timeout 30m ./hessian
//
// Measured 2026-12-02 on 2 cores (a niced job beside), pure-Go build,
// seconds:
//
//	n = 4,626 (203-20-26), P = 400:    sparse 0.089, dense 8.7  (98x)
//	n = 18,426 (203-80-26), P = 400:   sparse 0.91, dense 132 (145x)
//	n = 18,426, P = 5,603 (BenchmarkSparseGGNFull, NETtalk's training
//	letters): sparse 4.4; the dense build, linear in P, would take
//	about 1,850 (P = 400 scaled by 14).
func BenchmarkSparseGGN(b *testing.B) {
	for _, sz := range []struct{ win, hidden, P int }{{7, 20, 400}, {7, 80, 400}} {
		spec := model.Spec{Sizes: []int{sz.win * 29, sz.hidden, 26}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 1e-4}
		m := randomNet(b, netCase{spec: spec}, 1)
		for q := range m.Params {
			m.Params[q] *= 0.3
		}
		X, T := oneHotWindow(m, sz.win, 29, sz.P, 2)
		n := len(m.Params)
		for _, kind := range []string{"sparse", "dense"} {
			b.Run(fmt.Sprintf("n=%d/P=%d/%s", n, sz.P, kind), func(b *testing.B) {
				var c Curvature
				if kind == "sparse" {
					c, _ = NewSparse(GGN, m, X, T)
				} else {
					c, _ = New(GGN, m, X, T, nil)
				}
				dst := mat.NewSymDense(n, nil)
				dst.Zero() // first touch outside the timing
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					c.Dense(dst)
				}
			})
		}
	}
}

// BenchmarkSparseGGNFull is the sparse build alone at NETtalk's full size
// (203-80-26, P = 5,603 training letters, random one-hot windows), where the
// dense rank-1 build would take hours:
//
//	go test -run='^$' -bench=SparseGGNFull -benchtime=1x ./hessian
func BenchmarkSparseGGNFull(b *testing.B) {
	spec := model.Spec{Sizes: []int{7 * 29, 80, 26}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 1e-4}
	m := randomNet(b, netCase{spec: spec}, 1)
	for q := range m.Params {
		m.Params[q] *= 0.3
	}
	X, T := oneHotWindow(m, 7, 29, 5603, 2)
	c, _ := NewSparse(GGN, m, X, T)
	dst := mat.NewSymDense(len(m.Params), nil)
	dst.Zero() // first touch outside the timing
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Dense(dst)
	}
}
