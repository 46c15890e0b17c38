package hessian

import "gonum.org/v1/gonum/mat"

// Curvature is one curvature matrix of E at a network's weights over a data
// set X, T, restricted to the free parameters:
//
//	C = C_data + Decay I,  C_data with the 1/P of E (see Kind).
//
// Methods that take a destination write into it; an empty destination is
// resized, one of the wrong size panics. The curvatures returned by New are
// safe for concurrent use.
type Curvature interface {
	// Kind returns the curvature's kind.
	Kind() Kind
	// Dim returns nf, the number of free parameters.
	Dim() int
	// Free returns the parameter indices of the rows and columns, in order.
	// The slice must not be modified.
	Free() []int
	// Norm returns P, the number of patterns, the 1/P normaliser of C_data.
	Norm() int
	// Decay returns the weight-decay coefficient included in C.
	Decay() float64
	// Dense writes the full nf x nf matrix C into dst. For a RankOne
	// curvature that is Decay I + (1/P) sum_m X_m X_m^T; for Exact it is
	// the exact Hessian of E.
	Dense(dst *mat.SymDense)
	// Diag writes the diagonal of C into dst (length nf) without forming C
	// when it is a RankOne.
	Diag(dst []float64)
}

// RankOne is a Curvature that is a sum of rank-1 terms,
//
//	C = Decay I + (1/P) sum_{m=1..M} X_m X_m^T,  P = Norm(), M = NumTerms().
type RankOne interface {
	Curvature
	// NumTerms returns M, the number of rank-1 terms.
	NumTerms() int
	// Terms calls fn with successive blocks of at most b terms as the
	// columns of an nf x b' matrix (b' <= b), in a fixed order that is the
	// same on every call. The matrix is reused between calls of fn, so fn
	// must not keep it or modify it. b = 1 gives single terms. Terms panics
	// if b < 1.
	Terms(b int, fn func(u *mat.Dense))
}
