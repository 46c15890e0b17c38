//go:build openblas

package hessian

import _ "github.com/obs-toolkit/obs/hessian/internal/openblas" // blas64 and lapack64 -> OpenBLAS, LAPACKE

// With the build tag openblas every BLAS and LAPACK call made through
// gonum's blas64 and lapack64 (by this package and every other one in the
// program: mat.Cholesky, mat.EigenSym, ...) goes to OpenBLAS and LAPACKE
// through cgo, and the blocked inverse and the forming of rank-1 sums use
// the library's level-3 routines (dsymm, dsyrk, dtrsm) instead of this
// package's kernels. Needs the Debian packages libopenblas-dev and
// liblapacke-dev:
//
//	go test -tags openblas -run='^$' -bench=Inverse ./hessian
func init() { useLevel3BLAS = true }
