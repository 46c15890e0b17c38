//go:build !openblas

package hessian

// DefaultBlock is the number of terms per Woodbury update of InverseBlocked
// when its block argument is 0. Measured with BenchmarkInverseBlockSize
// (nf = 1000 and 2000, M = 4 nf, 2 cores, AMD EPYC Zen 5, gonum's pure-Go
// BLAS): time per term is lowest at 64, 5-10% higher at 128, 10-25% at 256
// and over 20% at 32 and 512. gonum's Dgemm cuts every product into
// 64 x 64 x 64 blocks, so a wider block does not make the nf x nf passes
// faster, while the b x b steps grow (nf b^2 flops per block). The openblas
// build uses 256 (see openblas.go). Memory is 2 nf b + b^2 floats besides
// dst.
const DefaultBlock = 64
