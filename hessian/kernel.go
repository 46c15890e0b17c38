package hessian

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// InverseKernel writes (C + alpha I)^-1 into the upper triangle of dst for
// a curvature C = Decay I + (1/P) U U^T of M rank-1 terms (the columns of
// the nf x M matrix U, P = Norm), through the M x M kernel instead of the
// nf x nf matrix: with beta = alpha + Decay,
//
//	(beta I + U U^T / P)^-1 = (I - U (beta P I_M + U^T U)^-1 U^T) / beta
//
// (the Woodbury identity applied to all M terms at once; M. A. Woodbury,
// "Inverting modified matrices", 1950). With K = beta P I_M + U^T U =
// R^T R (Cholesky) and Z = U R^-1, the inverse is (I - Z Z^T) / beta. The
// work is M^2 nf/2 multiply-adds for K's upper triangle, M^3/6 for R, M^2
// nf/2 for Z and nf^2 M/2 for Z Z^T's upper triangle, against the nf^3/2
// of sweeping the formed C (InverseDirectInPlace, after forming it), so it
// pays off when M is well below nf (KernelCheaper): the empirical Fisher
// of P patterns (M = P) on a
// network with more parameters than patterns, such as NETtalk's 5,603
// training windows for 18,426 parameters. The result equals the other
// inverses to rounding; the subtraction I - Z Z^T loses about
// log10(lambda_max / beta) digits in the directions where the data part's
// eigenvalue lambda_max dominates beta.
//
// Memory beyond dst: U, overwritten by Z (nf M floats), and K (M^2
// floats). In the pure-Go build every product is cut into tiles with an
// inner dimension of at most kernelChunk, on GOMAXPROCS goroutines
// (products.go); with the openblas build tag each is one OpenBLAS call.
// alpha must be finite and > 0; an empty dst is resized to nf. It returns
// an error wrapping ErrNotPositiveDefinite if K is not positive definite
// or a diagonal entry of the result is not positive, and ErrInterrupted if
// the curvature's context (WithContext) is cancelled between its stages.
func InverseKernel(dst *mat.SymDense, c RankOne, alpha float64) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	n, m := c.Dim(), c.NumTerms()
	sizeDst(dst, n)
	decay := c.Decay()
	beta := alpha + decay
	if m == 0 {
		initDiag(dst, 1/beta)
		return nil
	}
	ctx := contextOf(c)

	// U, n x M, row-major: row i holds parameter i's entry of every term.
	u := blas64.General{Rows: n, Cols: m, Stride: m, Data: make([]float64, n*m)}
	col := 0
	c.Terms(kernelChunk, func(t *mat.Dense) {
		r := t.RawMatrix()
		for i := 0; i < n; i++ {
			copy(u.Data[i*m+col:i*m+col+r.Cols], r.Data[i*r.Stride:i*r.Stride+r.Cols])
		}
		col += r.Cols
	})
	if cancelled(ctx) {
		return ErrInterrupted
	}
	if col != m {
		panic(fmt.Sprintf("hessian: curvature gave %d terms, NumTerms %d", col, m))
	}

	// K = beta P I + U^T U (upper triangle), then K = R^T R.
	k := blas64.General{Rows: m, Cols: m, Stride: m, Data: make([]float64, m*m)}
	gramUpper(k, u)
	bp := beta * float64(c.Norm())
	for i := 0; i < m; i++ {
		k.Data[i*m+i] += bp
	}
	if cancelled(ctx) {
		return ErrInterrupted
	}
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: m, Stride: m, Data: k.Data}); !ok {
		return notPD(fmt.Sprintf("kernel inverse of C + alpha I: beta P I + U^T U (%d terms) is not positive definite", m), alpha, decay, false)
	}
	r := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: m, Stride: m, Data: k.Data}

	// Z = U R^-1 in place, by blocks of columns.
	solveUpperRightBlocked(u, r)
	if cancelled(ctx) {
		return ErrInterrupted
	}

	// C^-1 = (I - Z Z^T) / beta.
	initDiag(dst, 1/beta)
	d := square(dst)
	if tiled {
		for k0 := 0; k0 < m; k0 += kernelChunk {
			k1 := min(k0+kernelChunk, m)
			addUpper(d, -1/beta, block(u, 0, n, k0, k1), block(u, 0, n, k0, k1))
		}
	} else {
		addUpper(d, -1/beta, u, u)
	}
	for i := 0; i < n; i++ {
		if v := d.Data[i*d.Stride+i]; !(v > 0) || math.IsInf(v, 1) {
			return notPD(fmt.Sprintf("kernel inverse of C + alpha I (%d terms): diagonal entry %d is %g", m, i, v), alpha, decay, false)
		}
	}
	return nil
}

// KernelCheaper reports whether InverseKernel of M terms does fewer
// multiply-adds than sweeping the formed nf x nf matrix: M^2 nf + M^3/6 +
// nf^2 M/2 against nf^3/2. Forming the matrix is left out of the count
// (the sparse build of NETtalk's one-hot inputs costs a few percent of the
// sweep), so the answer favours the sweep. At nf = 18,426 and M = 5,603
// the kernel needs 0.50 of the sweep's work; at nf = 9,213 (half the
// parameters pruned), 1.4 times it.
func KernelCheaper(nf, m int) bool {
	n, k := float64(nf), float64(m)
	return k*k*n+k*k*k/6+n*n*k/2 < n*n*n/2
}

// kernelChunk is the inner dimension of the tiles of InverseKernel's
// products in the pure-Go build: 192 columns of tileCols by 256 stay in
// the L2 cache of one core.
const kernelChunk = 256

// gramUpper sets the upper triangle of the m x m matrix k to U^T U for the
// n x m matrix u (k's strict lower triangle is left as garbage or zero).
// Pure Go: the rows of U are taken kernelChunk at a time, transposed into
// an m x kernelChunk panel T, and T T^T added by addUpper.
func gramUpper(k, u blas64.General) {
	if !tiled {
		blas64.Syrk(blas.Trans, 1, u, 0, blas64.Symmetric{Uplo: blas.Upper, N: k.Rows, Stride: k.Stride, Data: k.Data})
		return
	}
	n, m := u.Rows, u.Cols
	for i := range k.Data {
		k.Data[i] = 0
	}
	t := blas64.General{Rows: m, Stride: kernelChunk, Data: make([]float64, m*kernelChunk)}
	for i0 := 0; i0 < n; i0 += kernelChunk {
		i1 := min(i0+kernelChunk, n)
		h := i1 - i0
		t.Cols = h
		for i := i0; i < i1; i++ {
			blas64.Copy(blas64.Vector{N: m, Inc: 1, Data: u.Data[i*u.Stride:]}, blas64.Vector{N: m, Inc: t.Stride, Data: t.Data[i-i0:]})
		}
		addUpper(k, 1, t, t)
	}
}

// solveUpperRightBlocked sets w = w R^-1 for the upper triangular m x m
// matrix r, by blocks J of kernelChunk columns: w_J = (w_J - w_{<J}
// R_{<J,J}) R_JJ^-1, the product by gemm with its inner dimension cut into
// chunks of kernelChunk (pure Go), the small solve by solveUpperRight. One
// Trsm call with the openblas build tag.
func solveUpperRightBlocked(w blas64.General, r blas64.Triangular) {
	if !tiled {
		blas64.Trsm(blas.Right, blas.NoTrans, 1, r, w)
		return
	}
	n, m := w.Rows, w.Cols
	rg := blas64.General{Rows: m, Cols: m, Stride: r.Stride, Data: r.Data}
	for j0 := 0; j0 < m; j0 += kernelChunk {
		j1 := min(j0+kernelChunk, m)
		wj := block(w, 0, n, j0, j1)
		for k0 := 0; k0 < j0; k0 += kernelChunk {
			k1 := min(k0+kernelChunk, j0)
			gemm(blas.NoTrans, -1, block(w, 0, n, k0, k1), block(rg, k0, k1, j0, j1), 1, wj)
		}
		solveUpperRight(wj, blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: j1 - j0, Stride: r.Stride, Data: r.Data[j0*r.Stride+j0:]})
	}
}
