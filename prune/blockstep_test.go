package prune

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomBlockInverse returns a BlockInverse over nf free parameters (every
// other parameter of 2 nf) in blocks of size, each the inverse of a seeded
// random positive definite matrix.
func randomBlockInverse(nf, size int, rng *rand.Rand) *BlockInverse {
	free := make([]int, nf)
	for r := range free {
		free[r] = 2 * r
	}
	starts := []int{0}
	for s := size; s < nf; s += size {
		starts = append(starts, s)
	}
	starts = append(starts, nf)
	var inv []*mat.SymDense
	for b := 0; b+1 < len(starts); b++ {
		n := starts[b+1] - starts[b]
		a := mat.NewDense(n, 2*n, nil)
		for i := range n {
			for j := range 2 * n {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		c := mat.NewSymDense(n, nil)
		c.SymOuterK(1/float64(2*n), a)
		for i := range n {
			c.SetSym(i, i, c.At(i, i)+0.1)
		}
		var chol mat.Cholesky
		if !chol.Factorize(c) {
			panic("not positive definite")
		}
		s := mat.NewSymDense(n, nil)
		if err := chol.InverseTo(s); err != nil {
			panic(err)
		}
		inv = append(inv, s)
	}
	return NewBlockInverse(inv, starts, free, 2*nf)
}

func cloneBlockInverse(d *BlockInverse) *BlockInverse {
	inv := make([]*mat.SymDense, len(d.inv))
	for b, s := range d.inv {
		inv[b] = mat.NewSymDense(s.SymmetricDim(), nil)
		inv[b].CopySym(s)
	}
	return NewBlockInverse(inv, d.starts, d.free, len(d.pos))
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// TestBlockStepOneBitForBit deletes parameters one at a time, in a seeded
// random order, from two copies of a block inverse, one by the step and
// downdate of one parameter (step1, downdate1) and one by the general forms
// through gonum's mat (obsStep, downdate), and checks that every update,
// prediction and entry of the inverse has the same bits, signs of zeros
// included (weights of +0, -0 and tiny values, rows of removed parameters
// that are 0).
func TestBlockStepOneBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ nf, size int }{{1, 1}, {7, 3}, {130, 64}, {300, 128}} {
		fast := randomBlockInverse(c.nf, c.size, rng)
		slow := cloneBlockInverse(fast)
		w := make([]float64, 2*c.nf)
		for q := range w {
			switch rng.IntN(8) {
			case 0:
				w[q] = 0
			case 1:
				w[q] = math.Copysign(0, -1)
			case 2:
				w[q] = 1e-170 * rng.NormFloat64()
			default:
				w[q] = rng.NormFloat64()
			}
		}
		ws := append([]float64(nil), w...)
		for _, r := range rng.Perm(c.nf) {
			q := fast.free[r]
			uf, errf := OBSStep(fast, w, []int{q})
			us, errs := obsStep(slow, ws, []int{q})
			if errf != nil || errs != nil {
				t.Fatalf("nf %d: step %d: errors %v and %v", c.nf, q, errf, errs)
			}
			if !sameBits(uf.Predicted, us.Predicted) || len(uf.Rows) != len(us.Rows) || len(uf.Delta) != len(us.Delta) {
				t.Fatalf("nf %d: step %d: predicted %v and %v, %d and %d rows", c.nf, q, uf.Predicted, us.Predicted, len(uf.Rows), len(us.Rows))
			}
			for i := range uf.Rows {
				if uf.Rows[i] != us.Rows[i] || !sameBits(uf.Delta[i], us.Delta[i]) {
					t.Fatalf("nf %d: step %d: row %d: %d %v, general %d %v", c.nf, q, i, uf.Rows[i], uf.Delta[i], us.Rows[i], us.Delta[i])
				}
			}
			uf.Apply(w)
			us.Apply(ws)
			w[q], ws[q] = 0, 0
			if err := fast.Downdate([]int{q}); err != nil {
				t.Fatal(err)
			}
			if err := slow.downdate([]int{q}); err != nil {
				t.Fatal(err)
			}
			for b := range fast.inv {
				f, s := fast.inv[b].RawSymmetric(), slow.inv[b].RawSymmetric()
				for i := range f.N {
					for j := i; j < f.N; j++ {
						if !sameBits(f.Data[i*f.Stride+j], s.Data[i*s.Stride+j]) {
							t.Fatalf("nf %d: after %d: block %d (%d, %d): %v, general %v", c.nf, q, b, i, j, f.Data[i*f.Stride+j], s.Data[i*s.Stride+j])
						}
					}
				}
			}
		}
	}
}
