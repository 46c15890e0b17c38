package hessian

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// kernelTol bounds the relative (Frobenius) difference between the kernel
// inverse and the Cholesky inverse of the formed matrix: both are backward
// stable, and I - Z Z^T loses about log10(lambda_max/beta) digits (here at
// most 3); measured differences are 1e-14 to 1e-13.
const kernelTol = 1e-10

// InverseKernel equals InverseDirect for fewer terms than parameters and
// for more, with term counts and sizes on both sides of the chunk of the
// pure-Go tiles (256), for random terms, the empirical Fisher of a network
// (dense and sparse builds, with the decay replaced as relative damping
// does) and a term count of 1.
func TestInverseKernelMatchesDirect(t *testing.T) {
	check := func(name string, c RankOne, alpha float64) {
		t.Helper()
		var want mat.SymDense
		if err := InverseDirect(&want, c, alpha); err != nil {
			t.Fatalf("%s: direct: %v", name, err)
		}
		var got mat.SymDense
		if err := InverseKernel(&got, c, alpha); err != nil {
			t.Fatalf("%s: kernel: %v", name, err)
		}
		var d mat.Dense
		d.Sub(&got, &want)
		if r := mat.Norm(&d, 2) / mat.Norm(&want, 2); !(r <= kernelTol) {
			t.Errorf("%s: kernel inverse differs from direct by %g relative", name, r)
		}
	}
	for _, sz := range []struct{ nf, M int }{{1, 1}, {7, 3}, {300, 1}, {600, 300}, {530, 257}, {300, 520}} {
		check(name("random nf=%d M=%d", sz.nf, sz.M), randomFake(sz.nf, sz.M, 0.01, uint64(sz.nf+sz.M)), 1e-3)
	}

	// The empirical Fisher of a sigmoid network on one-hot windows, as
	// NETtalk's: 5 positions of 8 symbols, 40 inputs, 12 hidden, 6 outputs
	// (570 parameters), 300 patterns.
	spec := model.Spec{Sizes: []int{40, 12, 6}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 3e-4}
	m := randomNet(t, netCase{spec: spec, pruned: []int{0, 50, 500}}, 9)
	X, T := oneHotWindow(m, 5, 8, 300, 4)
	ef := mustNew(t, EmpiricalFisher, m, X, T, nil).(RankOne)
	check("empirical Fisher", ef, 1e-4)
	sp, err := NewSparse(EmpiricalFisher, m, X, T)
	if err != nil {
		t.Fatal(err)
	}
	check("sparse empirical Fisher", sp, 1e-4)
	rel, a, _, err := Damp(Relative, sp, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	check("sparse empirical Fisher, relative damping", rel.(RankOne), a)
	check("wrapped with a new decay", WithDecay(randomFake(90, 40, 0, 5), 0.5).(RankOne), 1e-3)
}

// InverseKernel refuses a bad alpha and reports a kernel that is not
// positive definite (a negative decay cancelling the damping) as
// ErrNotPositiveDefinite.
func TestInverseKernelErrors(t *testing.T) {
	c := randomFake(20, 5, 0, 1)
	var dst mat.SymDense
	if err := InverseKernel(&dst, c, 0); !errors.Is(err, ErrBadDamping) {
		t.Errorf("alpha 0: got %v, want ErrBadDamping", err)
	}
	c.decay = -2e-3
	if err := InverseKernel(&dst, c, 1e-3); !errors.Is(err, ErrNotPositiveDefinite) {
		t.Errorf("beta < 0: got %v, want ErrNotPositiveDefinite", err)
	}
}

// KernelCheaper's crossing: the documented NETtalk sizes, and the
// multiply-add counts it compares at a few sizes.
func TestKernelCheaper(t *testing.T) {
	for _, tc := range []struct {
		nf, M int
		want  bool
	}{{18426, 5603, true}, {9213, 5603, false}, {1000, 10, true}, {1000, 1000, false}, {100, 300, false}} {
		if got := KernelCheaper(tc.nf, tc.M); got != tc.want {
			n, k := float64(tc.nf), float64(tc.M)
			t.Errorf("KernelCheaper(%d, %d) = %v, want %v (kernel/sweep %.3g)", tc.nf, tc.M, got, tc.want, (k*k*n+k*k*k/6+n*n*k/2)/(n*n*n/2))
		}
	}
	n, k := 18426.0, 5603.0
	if r := (k*k*n + k*k*k/6 + n*n*k/2) / (n * n * n / 2); math.Abs(r-0.50) > 0.01 {
		t.Errorf("documented ratio 0.50 at NETtalk's size, computed %.3f", r)
	}
}

// BenchmarkInverseKernel compares the kernel inverse with forming the matrix
// and sweeping it, at NETtalk's ratio of terms to parameters (0.30) and at
// a size set by OBS_BENCH_N (default 3,000):
//
//	OBS_BENCH_N=6000 go test -run='^$' -bench=InverseKernel ./hessian
func BenchmarkInverseKernel(b *testing.B) {
	n := 3000
	if s := os.Getenv("OBS_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	m := int(0.304 * float64(n))
	c := randomFake(n, m, 3e-4, 1)
	dst := mat.NewSymDense(n, nil)
	b.Run(fmt.Sprintf("n=%d/M=%d/kernel", n, m), func(b *testing.B) {
		for b.Loop() {
			if err := InverseKernel(dst, c, 1e-4); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("n=%d/M=%d/form+sweep", n, m), func(b *testing.B) {
		for b.Loop() {
			if err := InverseDirectInPlace(dst, c, 1e-4); err != nil {
				b.Fatal(err)
			}
		}
	})
}
