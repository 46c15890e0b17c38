package hessian

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// rankKTol bounds the difference between AddSymRankK and gonum's SymRankK:
// the same k-term dot products summed in another order.
const rankKTol = 1e-12

func TestAddSymRankK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct{ n, k int }{{1, 1}, {17, 3}, {300, 40}} {
		a := mat.NewSymDense(sz.n, nil)
		for i := 0; i < sz.n; i++ {
			for j := i; j < sz.n; j++ {
				a.SetSym(i, j, rng.NormFloat64())
			}
		}
		x := mat.NewDense(sz.n, sz.k, nil)
		for i := 0; i < sz.n; i++ {
			for j := 0; j < sz.k; j++ {
				x.Set(i, j, rng.NormFloat64())
			}
		}
		var want mat.SymDense
		want.SymRankK(a, -0.7, x)
		AddSymRankK(a, -0.7, x)
		if d := maxAbsDiff(a, &want); d > rankKTol {
			t.Fatalf("n=%d k=%d: AddSymRankK differs from SymRankK by %g", sz.n, sz.k, d)
		}
	}
}

// sweepTol bounds the relative (Frobenius) difference between the sweep
// inverse and gonum's Cholesky inverse of a matrix of condition number
// about 1e6 (measured difference 2e-12): both solve through Cholesky
// factors, backward stable, so a few ulps times the condition.
const sweepTol = 1e-10

// The block sweep equals the Cholesky inverse for pivot blocks that divide
// n, do not, are 1, and exceed n; it reports a matrix that is not positive
// definite.
func TestInverseSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 230
	x := mat.NewDense(n, 40, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < 40; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	a := mat.NewSymDense(n, nil)
	a.SymOuterK(1, x) // rank 40: the damping sets the small eigenvalues
	for i := 0; i < n; i++ {
		a.SetSym(i, i, a.At(i, i)+1e-2)
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		t.Fatal("test matrix not positive definite")
	}
	var want mat.SymDense
	if err := chol.InverseTo(&want); err != nil {
		t.Fatal(err)
	}
	for _, nb := range []int{1, 23, 46, 64, 500} {
		got := mat.NewSymDense(n, nil)
		got.CopySym(a)
		s := got.RawSymmetric()
		if !inverseSweep(blas64.General{Rows: n, Cols: n, Stride: s.Stride, Data: s.Data}, nb) {
			t.Fatalf("nb=%d: sweep failed on a positive definite matrix", nb)
		}
		if e := RelFrobenius(got, &want); e > sweepTol {
			t.Errorf("nb=%d: sweep inverse differs from the Cholesky inverse by %.3g", nb, e)
		}
	}
	bad := mat.NewSymDense(3, []float64{1, 2, 0, 2, 1, 0, 0, 0, 1}) // eigenvalues 3, -1, 1
	s := bad.RawSymmetric()
	if inverseSweep(blas64.General{Rows: 3, Cols: 3, Stride: s.Stride, Data: s.Data}, 2) {
		t.Error("sweep accepted an indefinite matrix")
	}
}

// InverseDirectInPlace (the sweep) equals InverseDirect (mat.Cholesky).
func TestInverseDirectInPlace(t *testing.T) {
	c := lossCases()[0]
	m := randomNet(t, c, 35)
	X, T := randomData(m, 30, 36)
	g := mustNew(t, GGN, m, X, T, nil)
	var want mat.SymDense
	if err := InverseDirect(&want, g, 1e-3); err != nil {
		t.Fatal(err)
	}
	var got mat.SymDense
	if err := InverseDirectInPlace(&got, g, 1e-3); err != nil {
		t.Fatal(err)
	}
	if e := RelFrobenius(&got, &want); e > agreeTol {
		t.Errorf("InverseDirectInPlace vs InverseDirect: %.3g", e)
	}
}

// BenchmarkInverseInPlace times the in-place inverse of an n x n positive
// definite matrix (n = 3,000, or $OBS_BENCH_N): the block sweep
// (InverseDirectInPlace) against LAPACK's dpotrf and dpotri through gonum's
// lapack64 (gonum's own code in the pure-Go build, OpenBLAS's with -tags
// openblas):
//
//	go test -run='^$' -bench=InverseInPlace -benchtime=1x ./hessian
//	OBS_BENCH_N=8000 go test -tags openblas -run='^$' -bench=InverseInPlace -benchtime=1x ./hessian
//
// Measured 2026-12-02, 2 cores (a niced job beside), GFLOP/s (n^3 flops):
//
//	pure Go,   n = 3,000: sweep 14.4, dpotrf+dpotri 5.3
//	OpenBLAS,  n = 3,000: sweep 27.2, dpotrf+dpotri 23.1
//	OpenBLAS,  n = 8,000: sweep 49.2, dpotrf+dpotri 50.9
func BenchmarkInverseInPlace(b *testing.B) {
	n := 3000
	if s := os.Getenv("OBS_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x := mat.NewDense(n, 100, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < 100; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	a := mat.NewSymDense(n, nil)
	a.SymOuterK(1, x)
	for i := 0; i < n; i++ {
		a.SetSym(i, i, a.At(i, i)+1)
	}
	for _, method := range []string{"sweep", "potrf+potri"} {
		b.Run(fmt.Sprintf("n=%d/%s", n, method), func(b *testing.B) {
			w := mat.NewSymDense(n, nil)
			for i := 0; i < b.N; i++ {
				w.CopySym(a)
				s := w.RawSymmetric()
				if method == "sweep" {
					if !inverseSweep(blas64.General{Rows: n, Cols: n, Stride: s.Stride, Data: s.Data}, sweepBlock) {
						b.Fatal("sweep failed")
					}
					continue
				}
				t, ok := lapack64.Potrf(s)
				if !ok {
					b.Fatal("potrf failed")
				}
				if _, ok := lapack64.Potri(t); !ok {
					b.Fatal("potri failed")
				}
			}
			b.ReportMetric(float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
