package hessian

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Benchmarks of the three inverses on random problems with nf = n free
// parameters and M = 4n Gaussian rank-1 terms (seeded), damping 1e-3:
//
//	go test -run='^$' -bench=Inverse -benchtime=1x ./hessian
//	go test -run='^$' -bench='Inverse(Recursive|Blocked|Direct)/n=(1000|2000)$' ./hessian
//
// They only run with -bench. n = 4000 takes minutes for the recursion; the
// problems themselves (M x nf floats: 512 MiB at n = 4000) are built once,
// outside the timings. ns/term is the time per rank-1 term.

var benchSizes = []int{1000, 2000, 4000}

const benchAlpha = 1e-3

// streamed is a fake whose Dense is formed from its terms the way a real
// RankOne curvature forms it, not by the slow reference product.
type streamed struct{ *fakeRankOne }

func (s streamed) Dense(dst *mat.SymDense) {
	if dst.IsEmpty() {
		dst.ReuseAsSym(s.Dim())
	}
	denseFromTerms(dst, s)
}

var benchProblems sync.Map // n -> streamed

func benchProblem(n int) streamed {
	if c, ok := benchProblems.Load(n); ok {
		return c.(streamed)
	}
	c := streamed{randomFake(n, 4*n, 1e-4, uint64(n))}
	benchProblems.Store(n, c)
	return c
}

func benchInverse(b *testing.B, sizes []int, inv func(dst *mat.SymDense, c streamed) error) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			c := benchProblem(n)
			var dst mat.SymDense
			dst.ReuseAsSym(n)
			b.ReportAllocs()
			for b.Loop() {
				if err := inv(&dst, c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.NumTerms()), "ns/term")
		})
	}
}

func BenchmarkInverseRecursive(b *testing.B) {
	benchInverse(b, benchSizes, func(dst *mat.SymDense, c streamed) error {
		return InverseRecursive(dst, c, benchAlpha)
	})
}

func BenchmarkInverseBlocked(b *testing.B) {
	benchInverse(b, benchSizes, func(dst *mat.SymDense, c streamed) error {
		return InverseBlocked(dst, c, benchAlpha, 0)
	})
}

func BenchmarkInverseDirect(b *testing.B) {
	benchInverse(b, benchSizes, func(dst *mat.SymDense, c streamed) error {
		return InverseDirect(dst, c, benchAlpha)
	})
}

// BenchmarkInverseBlockSize tunes DefaultBlock at n = 1000 and 2000.
func BenchmarkInverseBlockSize(b *testing.B) {
	for _, bs := range []int{32, 64, 128, 256, 512} {
		b.Run(fmt.Sprintf("b=%d", bs), func(b *testing.B) {
			benchInverse(b, []int{1000, 2000}, func(dst *mat.SymDense, c streamed) error {
				return InverseBlocked(dst, c, benchAlpha, bs)
			})
		})
	}
}

// TestBenchProblemsAgree checks that the three inverses agree on the
// benchmark problems (n = 1000 and 2000; the recursion takes about 30 s at
// n = 2000). It runs only with HESSIAN_LONG=1:
//
//	HESSIAN_LONG=1 go test -run=BenchProblemsAgree -v ./hessian
func TestBenchProblemsAgree(t *testing.T) {
	if os.Getenv("HESSIAN_LONG") == "" {
		t.Skip("set HESSIAN_LONG=1 to run")
	}
	for _, n := range benchSizes[:2] {
		c := benchProblem(n)
		var rec, blk, dir mat.SymDense
		if err := InverseRecursive(&rec, c, benchAlpha); err != nil {
			t.Fatal(err)
		}
		if err := InverseBlocked(&blk, c, benchAlpha, 0); err != nil {
			t.Fatal(err)
		}
		if err := InverseDirect(&dir, c, benchAlpha); err != nil {
			t.Fatal(err)
		}
		eb, ed := RelFrobenius(&blk, &rec), RelFrobenius(&dir, &rec)
		t.Logf("n = %d: relative Frobenius distance from the recursion: blocked %.2g, direct %.2g", n, eb, ed)
		if eb > agreeTol || ed > agreeTol {
			t.Errorf("n = %d: distances %.3g, %.3g > %g", n, eb, ed, agreeTol)
		}
	}
}

// BenchmarkProducts measures the two large products of one InverseBlocked
// block at nf = 2000, b = 128 (GFLOP/s), three ways: one blas64.Gemm call
// (gonum runs it in parallel on 64 x 64 blocks; for Z Z^T one call per
// panel of 128 rows, from the diagonal on), one serial Gemm per tile
// of forTiles, and this package's gemm and addUpper (in the pure-Go build:
// matrix-vector calls per tile; products.go has the figures):
//
//	go test -run='^$' -bench=Products ./hessian
func BenchmarkProducts(b *testing.B) {
	const n, k = 2000, 128
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(r, c int) blas64.General {
		a := blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
		for i := range a.Data {
			a.Data[i] = rng.NormFloat64()
		}
		return a
	}
	h, ut, w := random(n, n), random(k, n), random(n, k)
	flops := 2 * float64(n) * float64(n) * float64(k)
	run := func(name string, flops float64, f func()) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	run("W/dgemm", flops, func() { blas64.Gemm(blas.NoTrans, blas.Trans, 1, h, ut, 0, w) })
	run("W/dgemm-tiles", flops, func() {
		forTiles(n, k, false, func(i0, i1, j0, j1 int) {
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, rows(h, i0, i1, 0), rows(ut, j0, j1, 0), 0, block(w, i0, i1, j0, j1))
		})
	})
	run("W/package", flops, func() { gemm(blas.Trans, 1, h, ut, 0, w) })
	// Z Z^T on the upper triangle: nf^2 b flops.
	run("ZZt/dgemm", flops/2, func() { // a call per panel of 128 rows, from the diagonal on
		for i0 := 0; i0 < n; i0 += 128 {
			i1 := min(i0+128, n)
			blas64.Gemm(blas.NoTrans, blas.Trans, -1e-9, rows(w, i0, i1, 0), rows(w, i0, n, 0), 1, rows(h, i0, i1, i0))
		}
	})
	run("ZZt/dgemm-tiles", flops/2, func() {
		forTiles(n, n, true, func(i0, i1, j0, j1 int) {
			blas64.Gemm(blas.NoTrans, blas.Trans, -1e-9, rows(w, i0, i1, 0), rows(w, j0, j1, 0), 1, block(h, i0, i1, j0, j1))
		})
	})
	run("ZZt/package", flops/2, func() { addUpper(h, -1e-9, w, w) })
}
