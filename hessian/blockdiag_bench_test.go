package hessian

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/obs-toolkit/obs/internal/parallel"
)

// BenchmarkBlockBuild measures the block-diagonal build and inverse of
// InverseBlocks without the network: M = 1024 seeded Gaussian terms over
// nf = 32000 rows, in chunks of 128 terms as rows (addRows), into blocks
// of B, then every block Cholesky-inverted in place (as InverseBlocks). GFLOP/s counts B^2 M per block
// for the triangles (B(B+1)/2 entries, M multiply-adds each) and B^3 for
// the inversion (B^3/3 Cholesky, 2 B^3/3 inverse), the convention of
// BenchmarkProducts' ZZt (n^2 b for an upper triangle). "reference" is
// that product, addUpper at n = 2000, b = 128, the large tiled product of
// products.go, measured in the same run. On 2 idle cores (2026-12-02),
//
//	go test -run='^$' -bench=BlockBuild -benchtime=8x ./hessian
//
// gave 19.1, 24.8 and 23.2 GFLOP/s for B = 32, 128 and 512 against 35.6
// for the reference: 54%, 70% and 65%.
func BenchmarkBlockBuild(b *testing.B) {
	const nf, M, chunk = 32000, 1024, 128
	rng := rand.New(rand.NewPCG(3, 4))
	ut := blas64.General{Rows: chunk, Cols: nf, Stride: nf, Data: make([]float64, chunk*nf)}
	for i := range ut.Data {
		ut.Data[i] = rng.NormFloat64()
	}
	rate := func(b *testing.B, flops float64) {
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	for _, B := range []int{32, 128, 512} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			starts := BlockStarts(nf, B)
			acc := NewBlockAccumulator(starts)
			for b.Loop() {
				for _, blk := range acc.Blocks() {
					blk.Zero()
				}
				for m := 0; m < M; m += chunk {
					acc.addRows(ut) // the same chunk M/chunk times: the speed does not depend on the values
				}
				_ = parallel.For(len(acc.blocks), 0, nil, nil, func(k int) error {
					a := acc.blocks[k]
					s := a.RawSymmetric()
					for i := 0; i < s.N; i++ {
						s.Data[i*s.Stride+i] += M // definite
					}
					return choleskyInverse(a, a, "block", 1, 0, false) // in place, as InverseBlocks
				})
			}
			flops := 0.0
			for k := 0; k+1 < len(starts); k++ {
				d := float64(starts[k+1] - starts[k])
				flops += d*d*M + d*d*d
			}
			rate(b, flops)
		})
	}
	b.Run("reference", func(b *testing.B) {
		const n, k = 2000, 128
		h := blas64.General{Rows: n, Cols: n, Stride: n, Data: make([]float64, n*n)}
		w := blas64.General{Rows: n, Cols: k, Stride: k, Data: make([]float64, n*k)}
		for i := range w.Data {
			w.Data[i] = rng.NormFloat64()
		}
		for b.Loop() {
			addUpper(h, -1e-9, w, w)
		}
		rate(b, float64(n)*n*k)
	})
}
