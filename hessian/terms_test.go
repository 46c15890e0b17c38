package hessian

import (
	"os"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// naiveGGNTerms returns the GGN terms of pattern p as the rows of a
// K x nf matrix, J_f^T u_k for the columns u_k of the output Hessian
// factor, each entry summed over the outputs j in ascending order with
// zero weights skipped and every product and sum rounded on its own (the
// explicit conversions forbid a fused multiply-add): the order of the
// generator before its loop over the columns was tiled.
func naiveGGNTerms(m *model.MLP, free []int, x, t []float64) [][]float64 {
	ws := m.NewWorkspace()
	var jac, u mat.Dense
	m.OutputJacobian(ws, &jac, x)
	s := 0.0
	for _, v := range t {
		s += v
	}
	m.OutputHessianFactor(ws, &u, x, s)
	K := m.NumOutputs()
	terms := make([][]float64, K)
	for k := range terms {
		terms[k] = make([]float64, len(free))
		for a, q := range free {
			acc := 0.0
			for j := 0; j < K; j++ {
				if w := u.At(j, k); w != 0 {
					acc = float64(acc + float64(w*jac.At(j, q)))
				}
			}
			terms[k][a] = acc
		}
	}
	return terms
}

// TestTermRowsGGNBitForBit checks that the terms the block build streams
// (termRows, the tiled combination written in place) are, bit for bit, the
// naive sums, on a network of more free parameters than one tile
// (combineTile), with every parameter free (the Jacobian used in place)
// and with some pruned (its free columns gathered).
func TestTermRowsGGNBitForBit(t *testing.T) {
	spec := model.Spec{Sizes: []int{20, 60, 10, 10}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy, Decay: 0.01}
	for _, pruned := range [][]int{nil, {0, 5, 1300, 1859}} {
		m := randomNet(t, netCase{spec: spec, pruned: pruned}, 3)
		if len(m.Free()) <= combineTile {
			t.Fatalf("%d free parameters: the test needs more than one tile of %d", len(m.Free()), combineTile)
		}
		X, T := randomData(m, 7, 4)
		c := mustNew(t, GGN, m, X, T, nil).(*rankOne)
		free := m.Free()
		p0 := 0
		termRows(c, 3, func(ut blas64.General) {
			for r := 0; r < ut.Rows; r++ {
				p, k := p0+r/c.perPattern, r%c.perPattern
				want := naiveGGNTerms(m, free, X[p], T[p])[k]
				got := ut.Data[r*ut.Stride : r*ut.Stride+ut.Cols]
				for a := range want {
					if got[a] != want[a] {
						t.Fatalf("pruned %v: pattern %d term %d entry %d: %v, want %v", pruned, p, k, a, got[a], want[a])
					}
				}
			}
			p0 += ut.Rows / c.perPattern
		})
		if p0 != len(X) {
			t.Errorf("pruned %v: %d patterns streamed, want %d", pruned, p0, len(X))
		}
	}
}

// BenchmarkGGNTerms streams the GGN terms of 24 patterns of a ReLU
// softmax network through termRows (the terms of InverseBlocks), reporting
// the nanoseconds per pattern; 784-1000-1000-10 (1.8M parameters) runs only
// with OBS_BENCH_BIG=1.
func BenchmarkGGNTerms(b *testing.B) {
	for _, sizes := range [][]int{{784, 300, 100, 10}, {784, 1000, 1000, 10}} {
		b.Run(model.Arch(sizes), func(b *testing.B) {
			if sizes[1] == 1000 && os.Getenv("OBS_BENCH_BIG") == "" {
				b.Skip("set OBS_BENCH_BIG=1 to run 784-1000-1000-10")
			}
			spec := model.Spec{Sizes: sizes, Hidden: model.ReLU, Output: model.Softmax, Loss: model.CrossEntropy}
			m := randomNet(b, netCase{spec: spec}, 5)
			for q := range m.Params {
				m.Params[q] *= 0.05
			}
			X, T := randomData(m, 24, 6)
			c := mustNew(b, GGN, m, X, T, nil).(*rankOne)
			for b.Loop() {
				termRows(c, max(1, termChunk/c.perPattern), func(blas64.General) {})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(X)), "ns/pattern")
		})
	}
}
