package prune

import (
	"math"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
)

// The OBS step and downdate of one parameter on a block-diagonal inverse,
// the inner loop of a one-shot prune of a large network (a million steps
// for a million parameters). The general forms (OBSStep, Downdate) go
// through gonum's mat for a 1 x 1 [C^-1]_qq: a Cholesky factorization with
// its condition estimate, triangular solves and a dozen small allocations
// per step, which cost more than the step's arithmetic. These do the same
// floating-point operations in the same order, so every bit of the result
// is the same (TestBlockStepOneBitForBit); each line below names the
// operation of the general form it replays.

// step1 is OBSStep(d, w, {q}).
func (d *BlockInverse) step1(w []float64, q int) (Update, error) {
	b, i := d.locate(q)
	inv := d.inv[b].RawSymmetric()
	dii := inv.Data[i*inv.Stride+i]
	if !plain(dii) {
		return obsStep(d, w, []int{q})
	}
	// Cholesky of the 1 x 1 [C^-1]_qq (lapack Dpotf2).
	u := math.Sqrt(dii)
	// y = U^-1 U^-T w_q (Dpotrs: two Dtrsm, each a scaling by 1/u).
	r := 1 / u
	y := (w[q] * r) * r
	// 1/2 w_q^T y (Ddot of one term: 0 + w_q y, then the sums of its lanes).
	pred := 0.5 * ((0 + w[q]*y) + 0 + 0)
	// -C^-1 e_q y on the block's rows (Dgemv with beta 0 writes 0 + a y).
	B := inv.N
	delta := make([]float64, B)
	for j := range delta {
		delta[j] = -(0 + sym(inv, j, i)*y)
	}
	return Update{Rows: d.free[d.starts[b]:d.starts[b+1]], Delta: delta, Predicted: pred}, nil
}

// sym returns entry (i, j) of the symmetric matrix stored in the upper
// triangle of s (mat.SymDense.At).
func sym(s blas64.Symmetric, i, j int) float64 {
	if i > j {
		i, j = j, i
	}
	return s.Data[i*s.Stride+j]
}

// plain reports whether v is a diagonal entry for which the fast forms
// are those of gonum: positive and far from overflow and underflow, where
// mat's condition estimates of a 1 x 1 matrix are 1 (outside, and for a
// non-positive or NaN entry, the general forms run and give their errors).
func plain(v float64) bool { return v >= 1e-300 && v <= 1e300 }

// downdate1 is Downdate({q}).
func (d *BlockInverse) downdate1(q int) error {
	b, i := d.locate(q)
	inv := d.inv[b].RawSymmetric()
	B, st := inv.N, inv.Stride
	dii := inv.Data[i*st+i]
	if !plain(dii) {
		return d.downdate([]int{q})
	}
	// L of the 1 x 1 [C^-1]_qq (choleskyL).
	l := math.Sqrt(dii)
	// x = L^-1 (C^-1 e_q)^T (Dtrsm: a scaling by 1/l).
	r := 1 / l
	if cap(d.x) < B {
		d.x = make([]float64, B)
	}
	x := d.x[:B]
	for j := range x {
		x[j] = r * sym(inv, j, i)
	}
	// C^-1 -= x^T x on the upper triangle (Dsyrk, transposed, k = 1: one
	// Daxpy per row, rows with x_a = 0 skipped).
	for a := range B {
		if t := -1 * x[a]; t != 0 {
			floats.AddScaled(inv.Data[a*st+a:a*st+B], t, x[a:B])
		}
	}
	// Row and column i to 0.
	for j := range i {
		inv.Data[j*st+i] = 0
	}
	row := inv.Data[i*st+i : i*st+B]
	for j := range row {
		row[j] = 0
	}
	d.pos[q] = -1
	return nil
}
