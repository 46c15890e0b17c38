//go:build openblas

package model

// gemmTiled: with the openblas tag (set for the whole program, see
// hessian/openblas.go) every product is one blas64.Gemm call, which
// OpenBLAS runs on its own threads.
const gemmTiled = false
