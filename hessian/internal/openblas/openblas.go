//go:build openblas

// Package openblas routes gonum's blas64 and lapack64 to OpenBLAS and
// LAPACKE through cgo when it is imported (package hessian imports it under
// the build tag openblas). It is a package of its own so that cgo and its
// link flags stay out of package hessian.
//
// Only products and factorizations large enough to repay a cgo call (and
// OpenBLAS's threads) go to OpenBLAS: the small ones that an OBS step makes
// per deletion (a 1 x 1 Cholesky, a rank-1 update of a 128 x 128 block)
// cost far more through cgo than in gonum's pure Go, which made the
// openblas build 1.6-2.1 times slower than the pure-Go one on a one-shot
// block prune. Level 1 and 2 routines (memory-bound) stay in pure Go.
package openblas

// #cgo LDFLAGS: -lopenblas -llapacke
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	blasgonum "gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
	blasnetlib "gonum.org/v1/netlib/blas/netlib"
	lapacknetlib "gonum.org/v1/netlib/lapack/netlib"
)

func init() {
	blas64.Use(sizedBLAS{})
	lapack64.Use(sizedLAPACK{})
}

// minFlops is the number of multiply-adds from which a Level 3 call goes
// to OpenBLAS (64^3), and minOrder the order from which a factorization
// does.
const (
	minFlops = 64 * 64 * 64
	minOrder = 64
)

// sizedBLAS is gonum's pure-Go BLAS with the large Level 3 calls sent to
// OpenBLAS.
type sizedBLAS struct{ blasgonum.Implementation }

var cblas blasnetlib.Implementation

func (b sizedBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, bb []float64, ldb int, beta float64, c []float64, ldc int) {
	if m*n*k >= minFlops {
		cblas.Dgemm(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
		return
	}
	b.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
}

func (b sizedBLAS) Dsymm(s blas.Side, ul blas.Uplo, m, n int, alpha float64, a []float64, lda int, bb []float64, ldb int, beta float64, c []float64, ldc int) {
	if m*n*max(m, n) >= minFlops {
		cblas.Dsymm(s, ul, m, n, alpha, a, lda, bb, ldb, beta, c, ldc)
		return
	}
	b.Implementation.Dsymm(s, ul, m, n, alpha, a, lda, bb, ldb, beta, c, ldc)
}

func (b sizedBLAS) Dsyrk(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if n*n*k >= minFlops {
		cblas.Dsyrk(ul, t, n, k, alpha, a, lda, beta, c, ldc)
		return
	}
	b.Implementation.Dsyrk(ul, t, n, k, alpha, a, lda, beta, c, ldc)
}

func (b sizedBLAS) Dsyr2k(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, bb []float64, ldb int, beta float64, c []float64, ldc int) {
	if n*n*k >= minFlops {
		cblas.Dsyr2k(ul, t, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
		return
	}
	b.Implementation.Dsyr2k(ul, t, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
}

func (b sizedBLAS) Dtrmm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, bb []float64, ldb int) {
	if m*n*max(m, n) >= minFlops {
		cblas.Dtrmm(s, ul, tA, d, m, n, alpha, a, lda, bb, ldb)
		return
	}
	b.Implementation.Dtrmm(s, ul, tA, d, m, n, alpha, a, lda, bb, ldb)
}

func (b sizedBLAS) Dtrsm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, bb []float64, ldb int) {
	if m*n*max(m, n) >= minFlops {
		cblas.Dtrsm(s, ul, tA, d, m, n, alpha, a, lda, bb, ldb)
		return
	}
	b.Implementation.Dtrsm(s, ul, tA, d, m, n, alpha, a, lda, bb, ldb)
}

// sizedLAPACK is gonum's pure-Go LAPACK with the factorizations and
// eigensolver of large matrices sent to LAPACKE. The choice depends only
// on the order, so a workspace query and the call it sizes go to the same
// implementation, as do a factorization and the solves that use it.
type sizedLAPACK struct{ lapackgonum.Implementation }

var clapack lapacknetlib.Implementation

func (l sizedLAPACK) Dpotrf(ul blas.Uplo, n int, a []float64, lda int) bool {
	if n >= minOrder {
		return clapack.Dpotrf(ul, n, a, lda)
	}
	return l.Implementation.Dpotrf(ul, n, a, lda)
}

func (l sizedLAPACK) Dpotri(ul blas.Uplo, n int, a []float64, lda int) bool {
	if n >= minOrder {
		return clapack.Dpotri(ul, n, a, lda)
	}
	return l.Implementation.Dpotri(ul, n, a, lda)
}

func (l sizedLAPACK) Dpotrs(ul blas.Uplo, n, nrhs int, a []float64, lda int, b []float64, ldb int) {
	if n >= minOrder {
		clapack.Dpotrs(ul, n, nrhs, a, lda, b, ldb)
		return
	}
	l.Implementation.Dpotrs(ul, n, nrhs, a, lda, b, ldb)
}

func (l sizedLAPACK) Dtrtri(ul blas.Uplo, d blas.Diag, n int, a []float64, lda int) bool {
	if n >= minOrder {
		return clapack.Dtrtri(ul, d, n, a, lda)
	}
	return l.Implementation.Dtrtri(ul, d, n, a, lda)
}

func (l sizedLAPACK) Dsyev(jobz lapack.EVJob, ul blas.Uplo, n int, a []float64, lda int, w, work []float64, lwork int) bool {
	if n >= minOrder {
		return clapack.Dsyev(jobz, ul, n, a, lda, w, work, lwork)
	}
	return l.Implementation.Dsyev(jobz, ul, n, a, lda, w, work, lwork)
}

func (l sizedLAPACK) Dgetrf(m, n int, a []float64, lda int, ipiv []int) bool {
	if min(m, n) >= minOrder {
		return clapack.Dgetrf(m, n, a, lda, ipiv)
	}
	return l.Implementation.Dgetrf(m, n, a, lda, ipiv)
}

func (l sizedLAPACK) Dgetrs(t blas.Transpose, n, nrhs int, a []float64, lda int, ipiv []int, b []float64, ldb int) {
	if n >= minOrder {
		clapack.Dgetrs(t, n, nrhs, a, lda, ipiv, b, ldb)
		return
	}
	l.Implementation.Dgetrs(t, n, nrhs, a, lda, ipiv, b, ldb)
}
