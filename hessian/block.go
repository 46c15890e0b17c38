//go:build !openblas

package hessian

// DefaultBlock is the number of terms per Woodbury update of InverseBlocked
// when its block argument is 0. Measured with BenchmarkInverseBlockSize
// (nf = 1000 and 2000, M = 4 nf, 2 cores, AMD EPYC Zen 5, the pure-Go
// build's tiled products): time per term is lowest at 128, 5-10% higher at
// 64 and 256, 25-35% higher at 32 and 512. Wider blocks do not make the
// nf x nf passes faster (the tiles' matrix-vector kernels run at the same
// speed for any b), while the b x b steps grow (nf b^2 flops per block).
// The openblas build uses 256 (see openblas.go). Memory is 2 nf b + b^2
// floats besides dst.
const DefaultBlock = 128

// tiled: the pure-Go build cuts its matrix products into tiles run on
// GOMAXPROCS goroutines (products.go).
const tiled = true

// blockInverseWorkers is the number of goroutines inverting the blocks of
// InverseBlocks: every core.
const blockInverseWorkers = 0
