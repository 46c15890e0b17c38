//go:build openblas

package hessian

import _ "github.com/obs-toolkit/obs/hessian/internal/openblas" // blas64 and lapack64 -> OpenBLAS, LAPACKE

// With the build tag openblas every BLAS and LAPACK call made through
// gonum's blas64 and lapack64 (by this package and every other one in the
// program: the Gemm products of InverseBlocked and of forming a rank-1 sum,
// mat.Cholesky, mat.EigenSym, ...) goes to OpenBLAS and LAPACKE through
// cgo; the code is the same as in the pure-Go build. Needs the Debian
// packages libopenblas-dev and liblapacke-dev:
//
//	go test -tags openblas -run='^$' -bench=Inverse ./hessian

// DefaultBlock is the number of terms per Woodbury update of InverseBlocked
// when its block argument is 0. With OpenBLAS (BenchmarkInverseBlockSize,
// nf = 1000 and 2000, 2 cores) time per term is lowest at 256 and 128,
// 10-15% higher at 512 and 40-50% higher at 64: OpenBLAS's dgemm needs a
// deeper inner dimension than gonum's to run at full speed.
const DefaultBlock = 256

// tiled: with OpenBLAS every matrix product is one call (products.go).
const tiled = false

// blockInverseWorkers is the number of goroutines inverting the blocks of
// InverseBlocks: one goroutine: OpenBLAS, called from several at once for
// 128 x 128 blocks, serialised them and left its threads spinning against
// the deletions and measurements that follow (an openblas one-shot prune of
// LeNet-300-100 took 32 s against 25 s in pure Go).
const blockInverseWorkers = 1
