package hessian

import (
	"errors"
	"math"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// eigTol bounds errors in quantities computed through an eigendecomposition
// of a 6 x 6 matrix with eigenvalues of order 1..10: backward error about
// n eps ||C|| ~ 1e-14, inverted eigenvalues down to 1e-3 amplify it by 1e3.
const eigTol = 1e-10

func TestInverseIndefiniteFixes(t *testing.T) {
	lambda := []float64{-3, -0.5, 1e-5, 0.2, 2, 5} // ascending
	const alpha = 1e-3
	q := randomOrthogonal(len(lambda), 2)
	c := &denseCurvature{kind: Exact, a: withEigen(q, lambda), decay: 0.01}
	cases := []struct {
		fix     Fix
		inv     func(l float64) float64 // eigenvalue of the result for eigenvalue l of C
		shift   float64
		clipped int
	}{
		{FixShift, func(l float64) float64 { return 1 / (l + 3 + alpha) }, 3, 0},
		{FixAbs, func(l float64) float64 { return 1 / (math.Abs(l) + alpha) }, 0, 2},
		{FixClip, func(l float64) float64 { return 1 / math.Max(l, alpha) }, 0, 3},
		{FixPinv, func(l float64) float64 {
			if math.Abs(l) <= alpha {
				return 0
			}
			return 1 / l
		}, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.fix.String(), func(t *testing.T) {
			var dst mat.SymDense
			rep, err := InverseIndefinite(&dst, c, alpha, tc.fix)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(lambda))
			for i, l := range lambda {
				want[i] = tc.inv(l)
			}
			// The result is Q diag(want) Q^T: same eigenvectors, new
			// eigenvalues; errors relative to the largest of them.
			scale := 0.0
			for _, w := range want {
				scale = math.Max(scale, math.Abs(w))
			}
			if d := maxAbsDiff(&dst, withEigen(q, want)); d > eigTol*scale {
				t.Errorf("max |result - Q diag(1/d) Q^T| = %.3g > %.3g", d, eigTol*scale)
			}
			var eig mat.EigenSym
			eig.Factorize(&dst, false)
			got := eig.Values(nil)
			sort.Float64s(want)
			for i := range got {
				if math.Abs(got[i]-want[i]) > eigTol*math.Max(1, math.Abs(want[i])) {
					t.Errorf("eigenvalue %d of the result = %v, want %v", i, got[i], want[i])
				}
			}
			wantRep := FixReport{Fix: tc.fix.String(), Alpha: alpha, Shift: tc.shift, MinEigen: -3, MaxEigen: 5, Negative: 2, Clipped: tc.clipped}
			if math.Abs(rep.Shift-tc.shift) > eigTol || math.Abs(rep.MinEigen+3) > eigTol || math.Abs(rep.MaxEigen-5) > eigTol {
				t.Errorf("report %+v, want %+v", rep, wantRep)
			}
			rep.Shift, rep.MinEigen, rep.MaxEigen, rep.Condition = wantRep.Shift, wantRep.MinEigen, wantRep.MaxEigen, 0
			if rep != wantRep {
				t.Errorf("report %+v, want %+v", rep, wantRep)
			}
		})
	}
}

func TestInverseIndefiniteFixNone(t *testing.T) {
	q := randomOrthogonal(5, 3)
	c := &denseCurvature{kind: Exact, a: withEigen(q, []float64{-2, 0.1, 1, 2, 3})}
	var dst mat.SymDense
	rep, err := InverseIndefinite(&dst, c, 1e-3, FixNone)
	if !errors.Is(err, ErrNotPositiveDefinite) {
		t.Errorf("indefinite with FixNone: error %v, want ErrNotPositiveDefinite", err)
	}
	if rep.Negative != 1 || !math.IsInf(rep.Condition, 1) || rep.Fix != "none" {
		t.Errorf("report %+v: want 1 negative eigenvalue and infinite condition", rep)
	}
	// Positive definite: FixNone, FixShift and FixAbs are all (C + alpha I)^-1.
	c = &denseCurvature{kind: Exact, a: withEigen(q, []float64{0.5, 1, 2, 3, 4})}
	var ref mat.SymDense
	if err := InverseDirect(&ref, c, 0.1); err != nil {
		t.Fatal(err)
	}
	for _, fix := range []Fix{FixNone, FixShift, FixAbs} {
		rep, err := InverseIndefinite(&dst, c, 0.1, fix)
		if err != nil {
			t.Fatal(err)
		}
		if e := RelFrobenius(&dst, &ref); e > eigTol {
			t.Errorf("%v on a positive definite matrix differs from InverseDirect by %.3g", fix, e)
		}
		if want := 4.1 / 0.6; math.Abs(rep.Condition-want) > eigTol*want {
			t.Errorf("%v: condition %v, want %v", fix, rep.Condition, want)
		}
	}
}

// TestInverseIndefiniteOnNetwork runs every fix on the exact Hessian of a
// network away from a minimum (random weights), which is indefinite.
func TestInverseIndefiniteOnNetwork(t *testing.T) {
	c := lossCases()[1]
	m := randomNet(t, c, 35)
	X, T := randomData(m, 8, 36)
	h := mustNew(t, Exact, m, X, T, nil)
	for _, fix := range []Fix{FixShift, FixAbs, FixClip, FixPinv} {
		var dst mat.SymDense
		rep, err := InverseIndefinite(&dst, h, 1e-4, fix)
		if err != nil {
			t.Fatalf("%v: %v", fix, err)
		}
		if rep.Negative == 0 {
			t.Fatalf("expected an indefinite Hessian at random weights; report %+v", rep)
		}
		if fix != FixPinv {
			// The fixed matrix is positive definite, so its inverse is too.
			var chol mat.Cholesky
			if !chol.Factorize(&dst) {
				t.Errorf("%v: result is not positive definite", fix)
			}
		}
	}
}

func TestInverseIndefiniteUnknownFix(t *testing.T) {
	c := &denseCurvature{kind: Exact, a: mat.NewSymDense(2, []float64{1, 0, 0, 1})}
	var dst mat.SymDense
	if _, err := InverseIndefinite(&dst, c, 1, Fix(9)); err == nil {
		t.Error("Fix(9) accepted")
	}
}
