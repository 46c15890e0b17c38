//go:build !openblas

package model

// gemmTiled: in the pure-Go build gemm tiles its products (minibatch.go).
const gemmTiled = true
