package hessian

import (
	"math"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// linearBlocks forms the same diagonal blocks as the terms streamed
// through the accumulator (termRows, the general path): every loss, with
// pruned parameters (segments broken inside a row), a bias-free layer,
// blocks that straddle rows and layers, one parameter per block and all
// of them, and more patterns than one chunk holds. The sums are the same
// products in another order, so they agree to rounding.
func TestLinearBlocksMatchTerms(t *testing.T) {
	ls, err := model.ParseLayers("linear:5:nobias,tanh,linear:4,sigmoid,linear:3")
	if err != nil {
		t.Fatal(err)
	}
	cases := append(lossCases(), netCase{"nobias/ce", model.Spec{Input: []int{4}, Layers: ls, Loss: model.CrossEntropy, Decay: 0.01}, []int{2, 6, 21, 30, 44}})
	for _, c := range cases {
		m := randomNet(t, c, 3)
		X, T := randomData(m, rowsChunk+37, 4)
		for _, kind := range []Kind{GGN, EmpiricalFisher, MCFisher} {
			curv := mustNew(t, kind, m, X, T, &Options{Seed: 5, Samples: 2}).(*rankOne)
			nf := curv.Dim()
			for _, size := range []int{1, 3, 7, nf} {
				starts := BlockStarts(nf, size)
				got, ok := linearBlocks(curv, starts)
				if !ok {
					t.Fatalf("%s %v: linearBlocks refused an all-Linear network", c.name, kind)
				}
				acc := NewBlockAccumulator(starts)
				termRows(curv, max(1, termChunk/curv.perPattern), acc.addRows)
				for b, want := range acc.Blocks() {
					n := want.SymmetricDim()
					scale := 0.0
					for i := range n {
						scale = math.Max(scale, math.Abs(want.At(i, i)))
					}
					for i := range n {
						for j := i; j < n; j++ {
							if d := math.Abs(got[b].At(i, j) - want.At(i, j)); d > 1e-12*scale || math.IsNaN(d) {
								t.Fatalf("%s %v blocks of %d: block %d (%d, %d) = %g, terms give %g", c.name, kind, size, b, i, j, got[b].At(i, j), want.At(i, j))
							}
						}
					}
				}
			}
		}
	}
}

// A network with a convolution is left to the terms.
func TestLinearBlocksRefuseConv(t *testing.T) {
	ls, err := model.ParseLayers("conv:2:2,relu,flatten,linear:2")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Spec{Input: []int{1, 3, 3}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	X, T := randomData(m, 4, 1)
	curv := mustNew(t, GGN, m, X, T, nil).(*rankOne)
	if _, ok := linearBlocks(curv, BlockStarts(curv.Dim(), 4)); ok {
		t.Fatal("linearBlocks accepted a network with a Conv2d")
	}
}
