package hessian

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// blockTol bounds the difference between a block inverse and the same block
// of the reference: both are Cholesky inverses of matrices of size <= 26
// with condition below 1e4 (alpha >= 0.5 against entries of O(1..10)),
// formed by sums in another order, so they agree to about cond * 1e-15.
const blockTol = 1e-9

// refBlocks returns the inverses of the diagonal blocks of a + alpha I.
func refBlocks(t *testing.T, a *mat.SymDense, starts []int, alpha float64) []*mat.SymDense {
	t.Helper()
	var out []*mat.SymDense
	for b := 0; b+1 < len(starts); b++ {
		n := starts[b+1] - starts[b]
		s := mat.NewSymDense(n, nil)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				v := a.At(starts[b]+i, starts[b]+j)
				if i == j {
					v += alpha
				}
				s.SetSym(i, j, v)
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(s) {
			t.Fatalf("reference block %d is not positive definite", b)
		}
		var inv mat.SymDense
		if err := chol.InverseTo(&inv); err != nil {
			t.Fatal(err)
		}
		out = append(out, &inv)
	}
	return out
}

// The block inverses of every kind (the exact Hessian through
// Hessian-vector products, the rank-1 kinds through the accumulator) equal
// the inverses of the diagonal blocks of the dense matrix, for blocks of
// 1, 3 and all parameters.
func TestInverseBlocksMatchDense(t *testing.T) {
	for _, c := range lossCases() {
		m := randomNet(t, c, 3)
		X, T := randomData(m, 15, 4)
		for _, kind := range []Kind{Exact, GGN, EmpiricalFisher, MCFisher} {
			curv := mustNew(t, kind, m, X, T, &Options{Seed: 5})
			alpha := 0.5
			if kind == Exact {
				alpha = 5 // the random network's exact Hessian is far from definite
			}
			a := dense(curv)
			for _, size := range []int{1, 3, curv.Dim()} {
				starts := BlockStarts(curv.Dim(), size)
				got, _, err := InverseBlocks(curv, starts, alpha, FixNone)
				if err != nil {
					t.Fatalf("%s %v block %d: %v", c.name, kind, size, err)
				}
				want := refBlocks(t, a, starts, alpha)
				for b := range want {
					if d := maxAbsDiff(got[b], want[b]); d > blockTol {
						t.Errorf("%s %v block size %d, block %d: max difference %g", c.name, kind, size, b, d)
					}
				}
				if size == 1 {
					d := make([]float64, curv.Dim())
					if _, err := InverseDiagonal(d, curv, alpha, FixNone); err != nil {
						t.Fatal(err)
					}
					for i := range d {
						if diff := d[i] - want[i].At(0, 0); diff > blockTol || diff < -blockTol {
							t.Errorf("%s %v: diagonal inverse %d = %v, reference %v", c.name, kind, i, d[i], want[i].At(0, 0))
						}
					}
				}
			}
		}
	}
}

// The accumulator's blocks are the blocks of U U^T whatever the chunks.
func TestBlockAccumulatorMatchesProduct(t *testing.T) {
	f := randomFake(37, 50, 0, 9)
	var full mat.SymDense
	f.Dense(&full) // (1/P) sum X X^T
	starts := BlockStarts(37, 8)
	for _, chunk := range []int{1, 7, 64} {
		acc := NewBlockAccumulator(starts)
		f.Terms(chunk, acc.Add)
		for b, blk := range acc.Blocks() {
			for i := 0; i < blk.SymmetricDim(); i++ {
				for j := i; j < blk.SymmetricDim(); j++ {
					got := blk.At(i, j) / float64(f.Norm())
					want := full.At(starts[b]+i, starts[b]+j)
					if d := got - want; d > blockTol || d < -blockTol {
						t.Fatalf("chunk %d block %d (%d,%d): %v, want %v", chunk, b, i, j, got, want)
					}
				}
			}
		}
	}
}

// With one block and a fix, the exact Hessian's block inverse is
// InverseIndefinite's, and so is the report.
func TestInverseBlocksOneBlockFix(t *testing.T) {
	c := lossCases()[3]
	m := randomNet(t, c, 3)
	X, T := randomData(m, 15, 4)
	curv := mustNew(t, Exact, m, X, T, nil)
	for _, fix := range []Fix{FixShift, FixAbs, FixClip} {
		var want mat.SymDense
		wrep, err := InverseIndefinite(&want, curv, 1e-2, fix)
		if err != nil {
			t.Fatal(err)
		}
		got, grep, err := InverseBlocks(curv, []int{0, curv.Dim()}, 1e-2, fix)
		if err != nil {
			t.Fatal(err)
		}
		// Condition up to 1e3 here: rounding of two eigendecompositions of
		// Hessians formed in different orders.
		if d := maxAbsDiff(got[0], &want); d > 1e-8 {
			t.Errorf("%v: max difference %g", fix, d)
		}
		if grep.Negative != wrep.Negative || grep.Clipped != wrep.Clipped {
			t.Errorf("%v: report %+v, InverseIndefinite %+v", fix, grep, wrep)
		}
	}
}

// addRows (terms as rows, transposed a group of blocks at a time) adds the
// same blocks as Add (terms as columns), bit for bit: both compute each
// entry as one dot product over the terms in the same order. nf = 1100
// with blocks of 100 and a last one of 100 gives three groups of at least
// groupRows = 512 rows; 13 and 16 terms cover the transpose's tail and its
// eight-row passes exactly.
func TestAddRowsMatchesAdd(t *testing.T) {
	const nf = 1100
	rng := rand.New(rand.NewPCG(8, 9))
	for _, starts := range [][]int{BlockStarts(nf, 100), {0, 7, 300, 301, 900, nf}} {
		for _, m := range []int{13, 16} {
			ut := blas64.General{Rows: m, Cols: nf, Stride: nf, Data: make([]float64, m*nf)}
			for i := range ut.Data {
				ut.Data[i] = rng.NormFloat64()
			}
			u := mat.NewDense(nf, m, nil)
			u.Copy(mat.NewDense(m, nf, ut.Data).T())
			byRows, byCols := NewBlockAccumulator(starts), NewBlockAccumulator(starts)
			byRows.addRows(ut)
			byCols.Add(u)
			for b := range byRows.Blocks() {
				if !mat.Equal(byRows.Blocks()[b], byCols.Blocks()[b]) {
					t.Errorf("starts %v, %d terms: block %d differs between addRows and Add", starts[:3], m, b)
				}
			}
		}
	}
}
