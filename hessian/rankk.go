package hessian

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// AddSymRankK adds alpha X X^T to the symmetric matrix a (n x n, X n x k),
// as a.SymRankK(a, alpha, X) does, but with this package's products: in the
// pure-Go build the upper triangle is cut into tiles of blas64.Gemv calls on
// GOMAXPROCS goroutines (gonum's Dsyrk is serial), with -tags openblas one
// OpenBLAS Gemm per row panel. It is the rank-k step of a group OBS
// downdate, C^-1 <- C^-1 - C^-1 E_Q ([C^-1]_QQ)^-1 E_Q^T C^-1 with
// X = C^-1 E_Q L^-T, a matrix product rather than k memory-bound rank-1
// updates. Only the upper triangle of a is read and written (entries of
// the strict lower triangle inside diagonal tiles may change; a SymDense
// never reads them). It panics if the shapes differ.
func AddSymRankK(a *mat.SymDense, alpha float64, x *mat.Dense) {
	n := a.SymmetricDim()
	if r, _ := x.Dims(); r != n {
		panic(fmt.Sprintf("hessian: AddSymRankK of a %d x %d matrix with %d rows", n, n, r))
	}
	xr := x.RawMatrix()
	addUpper(square(a), alpha, xr, xr)
}

// InverseDirectInPlace writes (C + alpha I)^-1 into dst like InverseDirect,
// but inverts in dst's own storage by the block sweep operator
// (inverseSweep: Gauss-Jordan elimination on symmetric pivot blocks, each a
// rank-256 product over the whole matrix), so the memory is one nf x nf
// matrix instead of two: at nf = 18,426 (NETtalk) 2.7 GB instead of 5.4 GB.
// LAPACK's dpotrf and dpotri would do the same in place, but gonum's run
// mostly serial kernels (BenchmarkInverseInPlace, n = 3,000, 2 cores: 5.3
// GFLOP/s against the sweep's 14.4), and OpenBLAS's through LAPACKE copy a
// row-major matrix into a transposed n x n buffer (peak 5.5 GB at NETtalk's
// size) for the same speed as the sweep (n = 8,000: 51 and 49 GFLOP/s).
// dst must be nf x nf or empty; only its upper triangle is used.
func InverseDirectInPlace(dst *mat.SymDense, c Curvature, alpha float64) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	sizeDst(dst, c.Dim())
	c.Dense(dst)
	addDiag(dst, alpha)
	s := dst.RawSymmetric()
	if !inverseSweep(blas64.General{Rows: s.N, Cols: s.N, Stride: s.Stride, Data: s.Data}, sweepBlock) {
		return notPD("a pivot block of C + alpha I is not positive definite (Cholesky failed)", alpha, c.Decay(), c.Kind() == Exact)
	}
	return nil
}

// sweepBlock is the pivot block size of inverseSweep: each step is a
// rank-sweepBlock product over the whole matrix, deep enough for the tiled
// products, and the per-step gathers and the small block inverse stay a few
// percent of the work.
const sweepBlock = 256

// inverseSweep replaces the symmetric positive definite matrix a (n x n,
// upper triangle read and written) by its inverse, in place, with the block
// sweep operator (Gauss-Jordan elimination on symmetric pivot blocks;
// J. H. Goodnight, "A tutorial on the SWEEP operator", The American
// Statistician 33, 1979). For each block K of nb indices in turn, with D =
// a_KK = U^T U (by then the Schur complement of the blocks swept before,
// positive definite when a is) and R the other indices,
//
//	Z = a_RK U^-1,  a_RR -= Z Z^T,  a_KR = (Z U^-T)^T = D^-1 a_KR,  a_KK = -D^-1,
//
// after which a = -A^-1, negated at the end. The pivot block enters through
// triangular solves with its Cholesky factor, never an explicit D^-1 in
// the products (which lost two to three digits at condition 1e6). Each step
// is one rank-nb update of the whole matrix (addUpper, tiled on GOMAXPROCS
// goroutines in the pure-Go build), so the n^3 flops of the inverse run at
// the speed of the matrix products. Memory beyond a: two n x nb panels. It
// returns false if a pivot block is not positive definite.
func inverseSweep(a blas64.General, nb int) bool {
	n := a.Rows
	nb = min(nb, n)
	z := make([]float64, n*nb) // a_RK U^-1: rows of K zero
	y := make([]float64, n*nb) // a_RK D^-1
	var d, dinv mat.SymDense
	var u mat.TriDense
	for k0 := 0; k0 < n; k0 += nb {
		k1 := min(k0+nb, n)
		b := k1 - k0
		d.Reset()
		d.ReuseAsSym(b)
		for i := 0; i < b; i++ {
			for j := i; j < b; j++ {
				d.SetSym(i, j, a.Data[(k0+i)*a.Stride+k0+j])
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(&d) {
			return false
		}
		u.Reset()
		chol.UTo(&u)
		dinv.Reset()
		if err := chol.InverseTo(&dinv); err != nil {
			return false
		}
		Z := blas64.General{Rows: n, Cols: b, Stride: b, Data: z[:n*b]}
		Y := blas64.General{Rows: n, Cols: b, Stride: b, Data: y[:n*b]}
		for j := 0; j < k0; j++ {
			copy(z[j*b:(j+1)*b], a.Data[j*a.Stride+k0:j*a.Stride+k1])
		}
		for k := k0 * b; k < k1*b; k++ {
			z[k] = 0
		}
		for i := 0; i < b; i++ {
			ri := a.Data[(k0+i)*a.Stride:]
			for j := k1; j < n; j++ {
				z[j*b+i] = ri[j]
			}
		}
		ut := u.RawTriangular()
		solveRight(Z, ut, blas.NoTrans)
		addUpper(a, -1, Z, Z)
		copy(y[:n*b], z[:n*b])
		solveRight(Y, ut, blas.Trans)
		for j := 0; j < k0; j++ {
			copy(a.Data[j*a.Stride+k0:j*a.Stride+k1], y[j*b:(j+1)*b])
		}
		for i := 0; i < b; i++ {
			ri := a.Data[(k0+i)*a.Stride:]
			for j := k1; j < n; j++ {
				ri[j] = y[j*b+i]
			}
			for j := i; j < b; j++ {
				ri[k0+j] = -dinv.At(i, j)
			}
		}
	}
	for i := 0; i < n; i++ {
		r := a.Data[i*a.Stride+i : i*a.Stride+n]
		for j := range r {
			r[j] = -r[j]
		}
	}
	return true
}

// solveRight sets w = w op(R)^-1 for the upper triangular r (blas64.Trsm;
// rows of w are independent, so the pure-Go build solves row panels on
// GOMAXPROCS goroutines).
func solveRight(w blas64.General, r blas64.Triangular, t blas.Transpose) {
	if !tiled {
		blas64.Trsm(blas.Right, t, 1, r, w)
		return
	}
	forTiles(w.Rows, 1, false, func(i0, i1, _, _ int) {
		blas64.Trsm(blas.Right, t, 1, r, rows(w, i0, i1, 0))
	})
}
