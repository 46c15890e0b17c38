package hessian

import (
	"fmt"

	"gonum.org/v1/gonum/lapack/lapack64"
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
// but factorizes and inverts in dst's own storage (LAPACK dpotrf and dpotri
// through gonum's lapack64), so the memory is one nf x nf matrix instead of
// two: at nf = 18,426 (NETtalk) 2.7 GB instead of 5.4 GB. dst must be
// nf x nf or empty; only its upper triangle is used.
func InverseDirectInPlace(dst *mat.SymDense, c Curvature, alpha float64) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	sizeDst(dst, c.Dim())
	c.Dense(dst)
	addDiag(dst, alpha)
	s := dst.RawSymmetric()
	t, ok := lapack64.Potrf(s)
	if !ok {
		return notPD("Cholesky factorization of C + alpha I failed", alpha, c.Decay(), c.Kind() == Exact)
	}
	if _, ok := lapack64.Potri(t); !ok {
		return notPD("C + alpha I is numerically singular", alpha, c.Decay(), c.Kind() == Exact)
	}
	return nil
}
