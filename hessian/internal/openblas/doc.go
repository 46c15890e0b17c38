// Package openblas is empty without the build tag openblas; with it, its
// init routes gonum's blas64 and lapack64 to OpenBLAS and LAPACKE.
package openblas
