package hessian

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// rankKTol bounds the difference between AddSymRankK and gonum's SymRankK:
// the same k-term dot products summed in another order.
const rankKTol = 1e-12

func TestAddSymRankK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct{ n, k int }{{1, 1}, {17, 3}, {300, 40}} {
		a := mat.NewSymDense(sz.n, nil)
		for i := 0; i < sz.n; i++ {
			for j := i; j < sz.n; j++ {
				a.SetSym(i, j, rng.NormFloat64())
			}
		}
		x := mat.NewDense(sz.n, sz.k, nil)
		for i := 0; i < sz.n; i++ {
			for j := 0; j < sz.k; j++ {
				x.Set(i, j, rng.NormFloat64())
			}
		}
		var want mat.SymDense
		want.SymRankK(a, -0.7, x)
		AddSymRankK(a, -0.7, x)
		if d := maxAbsDiff(a, &want); d > rankKTol {
			t.Fatalf("n=%d k=%d: AddSymRankK differs from SymRankK by %g", sz.n, sz.k, d)
		}
	}
}
