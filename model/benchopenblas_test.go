//go:build openblas

package model_test

// The hessian package routes gonum's blas64 to OpenBLAS in this build, as
// it does in the obs binary, so the benchmarks time OpenBLAS's products.
import _ "github.com/obs-toolkit/obs/hessian"
