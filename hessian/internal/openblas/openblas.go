//go:build openblas

// Package openblas routes gonum's blas64 and lapack64 to OpenBLAS and
// LAPACKE through cgo when it is imported (package hessian imports it under
// the build tag openblas). It is a package of its own so that cgo and its
// link flags stay out of package hessian.
package openblas

// #cgo LDFLAGS: -lopenblas -llapacke
import "C"

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	blasnetlib "gonum.org/v1/netlib/blas/netlib"
	lapacknetlib "gonum.org/v1/netlib/lapack/netlib"
)

func init() {
	blas64.Use(blasnetlib.Implementation{})
	lapack64.Use(lapacknetlib.Implementation{})
}
