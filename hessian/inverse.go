package hessian

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// sizeDst resizes an empty dst to n x n and panics if a non-empty one differs.
func sizeDst(dst *mat.SymDense, n int) {
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	if d := dst.SymmetricDim(); d != n {
		panic(fmt.Sprintf("hessian: destination matrix has size %d, want %d", d, n))
	}
}

// initDiag sets dst to v I (the full square storage, both triangles).
func initDiag(dst *mat.SymDense, v float64) {
	s := dst.RawSymmetric()
	for i := 0; i < s.N; i++ {
		row := s.Data[i*s.Stride : i*s.Stride+s.N]
		for j := range row {
			row[j] = 0
		}
		row[i] = v
	}
}

// InverseRecursive writes (C + alpha I)^-1 into dst by the recursion of
// Hassibi and Stork ("Second order derivatives for network pruning: Optimal
// Brain Surgeon", NIPS 5, 1993), exactly as published: with
// C = Decay I + (1/P) sum_m X_m X_m^T, start from
//
//	H_0^-1 = (alpha + Decay)^-1 I
//
// and for each term m = 1..M, in the order of c.Terms,
//
//	H_m^-1 = H_{m-1}^-1 - (H_{m-1}^-1 X_m)(H_{m-1}^-1 X_m)^T / (P + X_m^T H_{m-1}^-1 X_m),
//
// so that H_M^-1 = (C + alpha I)^-1 up to rounding. Each step is one
// symmetric matrix-vector product and one symmetric rank-1 update
// (SymDense.SymRankOne), 3 nf^2 flops, into reused vectors: nothing is
// allocated per term.
//
// alpha must be finite and > 0 (the paper's small alpha; the recursion needs
// it to start). An empty dst is resized to nf. InverseRecursive returns an
// error wrapping ErrNotPositiveDefinite as soon as rounding makes the
// running inverse lose positive definiteness — a denominator that is not a
// finite number >= P (X^T H^-1 X < 0 or overflow) or a diagonal entry that is
// not positive — and the advice to raise alpha. dst holds no useful result
// after an error.
func InverseRecursive(dst *mat.SymDense, c RankOne, alpha float64) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	n := c.Dim()
	sizeDst(dst, n)
	decay := c.Decay()
	initDiag(dst, 1/(alpha+decay))
	P := float64(c.Norm())
	v := mat.NewVecDense(n, nil)
	vv := v.RawVector()
	h := dst.RawSymmetric()
	var err error
	m := 0
	ctx := contextOf(c)
	c.Terms(1, func(u *mat.Dense) {
		if err != nil {
			return
		}
		if cancelled(ctx) {
			err = ErrInterrupted
			return
		}
		m++
		r := u.RawMatrix()
		x := blas64.Vector{N: n, Inc: r.Stride, Data: r.Data}
		blas64.Symv(1, h, x, 0, vv)
		q := blas64.Dot(x, vv)
		den := P + q
		if !(q >= 0) || math.IsInf(den, 1) {
			err = notPD(fmt.Sprintf("recursive inverse of C + alpha I, term %d of %d: X^T H^-1 X = %g", m, c.NumTerms(), q), alpha, decay, false)
			return
		}
		dst.SymRankOne(dst, -1/den, v)
		for i := 0; i < n; i++ {
			if d := h.Data[i*h.Stride+i]; !(d > 0) || math.IsInf(d, 1) {
				err = notPD(fmt.Sprintf("recursive inverse of C + alpha I, term %d of %d: diagonal entry %d became %g", m, c.NumTerms(), i, d), alpha, decay, false)
				return
			}
		}
	})
	return err
}

// InverseBlocked writes (C + alpha I)^-1 into dst by the Woodbury identity
// applied to b terms U = [X_1 .. X_b] (an nf x b matrix) at a time: from
// C_0^-1 = (alpha + Decay)^-1 I,
//
//	C^-1 <- C^-1 - C^-1 U (P I_b + U^T C^-1 U)^-1 U^T C^-1,
//
// (M. A. Woodbury, "Inverting modified matrices", 1950; with b = 1 this is
// InverseRecursive's step). Each block costs the product W = C^-1 U
// (nf x nf by nf x b), the b x b matrix S = P I_b + U^T W, its Cholesky
// factor S = R^T R, a triangular solve Z = W R^-1 and the update
// C^-1 -= Z Z^T: the same 3 nf^2 flops per term as the recursion, but in
// matrix-matrix products instead of memory-bound matrix-vector ones. In the
// pure-Go build the products are cut into tiles that run on GOMAXPROCS
// goroutines, each tile a sequence of gonum's assembly matrix-vector
// kernels over data held in cache (products.go); with the openblas build
// tag each is one OpenBLAS call. The running inverse is kept in both
// triangles of dst's storage, because W reads whole rows of it; Z Z^T is
// added to the upper triangle and copied onto the lower one, so dst is
// exactly symmetric. The result does not depend on GOMAXPROCS: every
// element of every product is computed by one call over a tile fixed in
// advance, never split into partial sums.
//
// block is b (reduced to nf or M if larger); 0 means DefaultBlock and
// negative values are an error. alpha must be finite and > 0. An empty dst
// is resized to nf; besides dst the memory used is 2 nf b + b^2 floats, and
// allocations are per block (the goroutines of each tiled product), not per
// term. InverseBlocked returns an error wrapping ErrNotPositiveDefinite if
// a block's S is not positive definite or a diagonal entry of the running
// inverse is not positive (raise alpha). dst holds no useful result after
// an error.
func InverseBlocked(dst *mat.SymDense, c RankOne, alpha float64, block int) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	if block < 0 {
		return fmt.Errorf("hessian: block size %d must be >= 0 (0 means the default %d)", block, DefaultBlock)
	}
	if block == 0 {
		block = DefaultBlock
	}
	n := c.Dim()
	sizeDst(dst, n)
	decay := c.Decay()
	initDiag(dst, 1/(alpha+decay))
	// Blocks wider than nf only add work (the b x b steps grow as b^2).
	bmax := max(1, min(block, c.NumTerms(), n))
	P := float64(c.Norm())
	full := square(dst)
	ws := &woodbury{ut: make([]float64, bmax*n), w: make([]float64, n*bmax), s: make([]float64, bmax*bmax)}
	var err error
	m := 0 // terms done
	ctx := contextOf(c)
	c.Terms(bmax, func(u *mat.Dense) {
		if err != nil {
			return
		}
		if cancelled(ctx) {
			err = ErrInterrupted
			return
		}
		r := u.RawMatrix()
		if !ws.update(full, r, P) {
			err = notPD(fmt.Sprintf("blocked inverse of C + alpha I, terms %d..%d of %d: P I + U^T C^-1 U is not positive definite", m+1, m+r.Cols, c.NumTerms()), alpha, decay, false)
			return
		}
		m += r.Cols
		for i := 0; i < n; i++ {
			if d := full.Data[i*full.Stride+i]; !(d > 0) || math.IsInf(d, 1) {
				err = notPD(fmt.Sprintf("blocked inverse of C + alpha I, after term %d of %d: diagonal entry %d became %g", m, c.NumTerms(), i, d), alpha, decay, false)
				return
			}
		}
	})
	return err
}

// woodbury holds the workspaces of one blocked inversion.
type woodbury struct {
	ut []float64 // b x nf: U^T
	w  []float64 // nf x b: W = C^-1 U, then Z = W R^-1
	s  []float64 // b x b: S = P I + U^T W, then R
}

// update applies the Woodbury step of the terms u (nf x b) to the inverse
// h, held in full storage, and reports whether S was positive definite.
// The products (products.go) are in the forms A B^T and A B, with the
// terms as rows of the copy U^T, so that each term is a contiguous vector
// for the matrix-vector kernels of the pure-Go build.
func (ws *woodbury) update(h, u blas64.General, P float64) bool {
	n, b := h.Rows, u.Cols
	ut := blas64.General{Rows: b, Cols: n, Stride: n, Data: ws.ut[:b*n]}
	for j := 0; j < b; j++ {
		blas64.Copy(blas64.Vector{N: n, Inc: u.Stride, Data: u.Data[j:]}, blas64.Vector{N: n, Inc: 1, Data: ut.Data[j*n:]})
	}
	w := blas64.General{Rows: n, Cols: b, Stride: b, Data: ws.w[:n*b]}
	gemm(blas.Trans, 1, h, ut, 0, w) // W = C^-1 U
	s := blas64.General{Rows: b, Cols: b, Stride: b, Data: ws.s[:b*b]}
	gemm(blas.NoTrans, 1, ut, w, 0, s) // U^T W
	for i := 0; i < b; i++ {
		s.Data[i*b+i] += P
	}
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: b, Stride: b, Data: s.Data}); !ok {
		return false
	}
	r := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: b, Stride: b, Data: s.Data}
	solveUpperRight(w, r) // Z = W R^-1
	addUpper(h, -1, w, w)
	mirrorUpper(h)
	return true
}

// InverseDirect writes (C + alpha I)^-1 into dst by a Cholesky factorization
// of the formed matrix C + alpha I (LAPACK dpotrf through gonum's lapack64)
// and its inverse (dpotri). For a RankOne curvature the matrix is formed from
// the terms (nf^2 M / 2 multiply-adds); for Exact it is the exact Hessian.
//
// alpha must be finite and > 0. An empty dst is resized to nf; the memory
// used is dst plus one nf x nf factor. If C + alpha I is not positive
// definite (the exact Hessian away from a minimum, or too little damping),
// InverseDirect returns an error wrapping ErrNotPositiveDefinite that advises
// raising alpha or, for the exact Hessian, InverseIndefinite with a fix.
func InverseDirect(dst *mat.SymDense, c Curvature, alpha float64) error {
	if err := checkAlpha(alpha); err != nil {
		return err
	}
	sizeDst(dst, c.Dim())
	c.Dense(dst)
	addDiag(dst, alpha)
	return choleskyInverse(dst, dst, "C + alpha I", alpha, c.Decay(), c.Kind() == Exact)
}

// addDiag adds v to the diagonal of a.
func addDiag(a *mat.SymDense, v float64) {
	s := a.RawSymmetric()
	for i := 0; i < s.N; i++ {
		s.Data[i*s.Stride+i] += v
	}
}

// choleskyInverse writes a^-1 into dst (which may be a) or returns an error
// wrapping ErrNotPositiveDefinite: when the Cholesky factorization (LAPACK
// dpotrf) fails, or when the inverse (dpotri) is numerically singular, its
// 1-norm condition number ||a||_1 ||a^-1||_1 above mat.ConditionTolerance,
// the threshold of mat.Cholesky.InverseTo. The condition number is computed
// exactly from the inverse at O(n^2) rather than estimated by
// mat.Cholesky's dpocon, whose triangular solves cost as much as the
// inverse itself for the small blocks of InverseBlocks.
func choleskyInverse(dst, a *mat.SymDense, what string, alpha, decay float64, exact bool) error {
	n := a.SymmetricDim()
	if dst != a {
		sizeDst(dst, n)
		dst.CopySym(a)
	}
	s := dst.RawSymmetric()
	s.Uplo = blas.Upper
	work := make([]float64, n)
	anorm := lapack64.Lansy(lapack.MaxColumnSum, s, work)
	t, ok := lapack64.Potrf(s)
	if !ok {
		return notPD("Cholesky factorization of "+what+" failed", alpha, decay, exact)
	}
	if _, ok := lapack64.Potri(t); !ok {
		return notPD(what+" is numerically singular (a zero pivot)", alpha, decay, exact)
	}
	if cond := anorm * lapack64.Lansy(lapack.MaxColumnSum, s, work); !(cond <= mat.ConditionTolerance) {
		return notPD(fmt.Sprintf("%s is numerically singular (1-norm condition number %.3g)", what, cond), alpha, decay, exact)
	}
	return nil
}
