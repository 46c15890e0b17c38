package hessian

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// InverseIndefinite writes into dst an inverse of the curvature C (meant for
// the exact Hessian, which can be indefinite) with the explicit fix given,
// and returns a report of what was done. With the eigendecomposition
// C = V diag(lambda) V^T (gonum mat.EigenSym, LAPACK dsyev), the result is
// V diag(1/d) V^T with
//
//	FixNone:  C + alpha I by Cholesky; an error wrapping ErrNotPositiveDefinite if it is not positive definite
//	FixShift: d = lambda + shift + alpha, shift = max(0, -lambda_min) the smallest multiple of I making C semi-definite
//	FixAbs:   d = |lambda| + alpha
//	FixClip:  d = max(lambda, alpha)
//	FixPinv:  1/d = 1/lambda if |lambda| > alpha, else 0 (pseudo-inverse; alpha is the threshold, not added)
//
// alpha must be finite and > 0. For a positive definite C, FixShift and
// FixAbs give (C + alpha I)^-1 like InverseDirect. The report (eigenvalues,
// shift, number of eigenvalues changed, condition of what was inverted) is
// filled in whenever the eigenvalues could be computed, also with an error.
// An empty dst is resized to nf; the memory used is about three nf x nf
// matrices. dst holds no useful result after an error.
func InverseIndefinite(dst *mat.SymDense, c Curvature, alpha float64, fix Fix) (FixReport, error) {
	rep := FixReport{Fix: fix.String(), Alpha: alpha}
	if err := checkAlpha(alpha); err != nil {
		return rep, err
	}
	if fix < FixNone || fix > FixPinv {
		return rep, fmt.Errorf("hessian: unknown indefinite-Hessian fix %v", fix)
	}
	n := c.Dim()
	sizeDst(dst, n)
	a := mat.NewSymDense(n, nil)
	c.Dense(a)
	return invertIndefinite(dst, a, alpha, fix, c.Kind(), c.Decay(), rep)
}

// invertIndefinite is InverseIndefinite of the matrix a (overwritten) of a
// curvature of the given kind and decay, with rep's Fix and Alpha set.
func invertIndefinite(dst, a *mat.SymDense, alpha float64, fix Fix, kind Kind, decay float64, rep FixReport) (FixReport, error) {
	n := a.SymmetricDim()
	var eig mat.EigenSym
	if ok := eig.Factorize(a, fix != FixNone); !ok {
		return rep, fmt.Errorf("hessian: eigendecomposition of the %v curvature did not converge", kind)
	}
	lambda := eig.Values(nil) // ascending
	rep.MinEigen, rep.MaxEigen = lambda[0], lambda[n-1]
	for _, l := range lambda {
		if l < 0 {
			rep.Negative++
		}
	}

	if fix == FixNone {
		if lo := lambda[0] + alpha; lo > 0 {
			rep.Condition = (lambda[n-1] + alpha) / lo
		} else {
			rep.Condition = math.Inf(1)
		}
		addDiag(a, alpha)
		err := choleskyInverse(dst, a, fmt.Sprintf("C + alpha I (smallest eigenvalue of C %g)", lambda[0]), alpha, decay, true)
		return rep, err
	}

	inv := fixValues(lambda, alpha, fix, &rep)

	// dst = V diag(inv) V^T = (V diag(inv)) V^T, upper triangle.
	var v mat.Dense
	eig.VectorsTo(&v)
	var vs mat.Dense
	vs.Mul(&v, mat.NewDiagDense(n, inv))
	out := dst.RawSymmetric()
	for i := 0; i < n; i++ {
		clear(out.Data[i*out.Stride+i : i*out.Stride+n])
	}
	addUpper(square(dst), 1, vs.RawMatrix(), v.RawMatrix())
	return rep, nil
}

// fixValues returns, for the eigenvalues lambda of C and a fix other than
// FixNone, the eigenvalues of the inverse, 1/d_i or 0 (see
// InverseIndefinite), and fills in rep's Shift, Clipped and Condition.
func fixValues(lambda []float64, alpha float64, fix Fix, rep *FixReport) []float64 {
	inv := make([]float64, len(lambda))
	dmin, dmax := math.Inf(1), 0.0
	use := func(i int, d float64) {
		inv[i] = 1 / d
		dmin, dmax = math.Min(dmin, math.Abs(d)), math.Max(dmax, math.Abs(d))
	}
	switch fix {
	case FixShift:
		rep.Shift = math.Max(0, -lambda[0])
		for i, l := range lambda {
			use(i, l+rep.Shift+alpha)
		}
	case FixAbs:
		for i, l := range lambda {
			if l < 0 {
				rep.Clipped++
			}
			use(i, math.Abs(l)+alpha)
		}
	case FixClip:
		for i, l := range lambda {
			if l < alpha {
				rep.Clipped++
			}
			use(i, math.Max(l, alpha))
		}
	case FixPinv:
		for i, l := range lambda {
			if math.Abs(l) <= alpha {
				rep.Clipped++
				continue
			}
			use(i, l)
		}
	}
	if dmax == 0 { // FixPinv dropped every direction
		rep.Condition = math.Inf(1)
	} else {
		rep.Condition = dmax / dmin
	}
	return inv
}
