package hessian

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// lineNet is f(x) = w x + b (identity output, squared error l = 1/2 (f -
// t)^2) with weight decay lambda: every curvature of it is written out by
// hand in the tests below.
func lineNet(t *testing.T, w, b, lambda float64) *model.MLP {
	t.Helper()
	net, err := model.New(model.Spec{Sizes: []int{1, 1}, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError, Decay: lambda})
	if err != nil {
		t.Fatal(err)
	}
	net.Params[0], net.Params[1] = w, b
	return net
}

func TestRelativeDampingByHand(t *testing.T) {
	// f = 0.5 x on x = 2 (t = 0, residual 1) and x = 0 (t = 1, residual
	// -1). J_p = (x_p, 1), so G_data = 1/2 ([[4, 2], [2, 1]] + [[0, 0],
	// [0, 1]]) = [[2, 1], [1, 1]]; g_1 = (2, 1), g_2 = (0, -1) give the same
	// F_emp data part, and H = G (f is linear in w, b). s = tr/n = 3/2.
	const lambda, alpha = 0.1, 0.01
	net := lineNet(t, 0.5, 0, lambda)
	X := [][]float64{{2}, {0}}
	T := [][]float64{{0}, {1}}
	const s = 1.5
	// Relative: C = G_data + lambda s I, inverted with alpha s.
	wantC := mat.NewSymDense(2, []float64{2 + lambda*s, 1, 1, 1 + lambda*s})
	a, b, d := 2+(lambda+alpha)*s, 1.0, 1+(lambda+alpha)*s
	det := a*d - b*b
	wantInv := mat.NewSymDense(2, []float64{d / det, -b / det, -b / det, a / det})
	for _, k := range []Kind{GGN, EmpiricalFisher, Exact} {
		c, err := New(k, net, X, T, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := Scale(c); math.Abs(got-s) > 1e-14 {
			t.Errorf("%v: Scale = %v, want %v", k, got, s)
		}
		rc, ra, rs, err := Damp(Relative, c, alpha)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(rs-s) > 1e-14 || math.Abs(ra-alpha*s) > 1e-15 || math.Abs(rc.Decay()-lambda*s) > 1e-15 {
			t.Errorf("%v: Damp gave scale %v, alpha %v, decay %v; want %v, %v, %v", k, rs, ra, rc.Decay(), s, alpha*s, lambda*s)
		}
		var got mat.SymDense
		rc.Dense(&got)
		if !mat.EqualApprox(&got, wantC, 1e-14) {
			t.Errorf("%v: relative C = %v, want %v", k, mat.Formatted(&got), mat.Formatted(wantC))
		}
		diag := make([]float64, 2)
		rc.Diag(diag)
		if math.Abs(diag[0]-wantC.At(0, 0)) > 1e-14 || math.Abs(diag[1]-wantC.At(1, 1)) > 1e-14 {
			t.Errorf("%v: relative diagonal %v, want %v %v", k, diag, wantC.At(0, 0), wantC.At(1, 1))
		}
		var inv mat.SymDense
		if k == Exact {
			if _, err := InverseIndefinite(&inv, rc, ra, FixNone); err != nil {
				t.Fatal(err)
			}
		} else if err := InverseDirect(&inv, rc, ra); err != nil {
			t.Fatal(err)
		}
		if !mat.EqualApprox(&inv, wantInv, 1e-12) {
			t.Errorf("%v: relative inverse %v, want %v", k, mat.Formatted(&inv), mat.Formatted(wantInv))
		}
		// The block and diagonal paths see the relative decay too.
		blocks, _, err := InverseBlocks(rc, []int{0, 1, 2}, ra, FixNone)
		if err != nil {
			t.Fatal(err)
		}
		for i, bl := range blocks {
			want := 1 / (wantC.At(i, i) + alpha*s)
			if math.Abs(bl.At(0, 0)-want) > 1e-12 {
				t.Errorf("%v: block %d inverse %v, want %v", k, i, bl.At(0, 0), want)
			}
		}
		// Absolute leaves everything as it is.
		ac, aa, as, err := Damp(Absolute, c, alpha)
		if err != nil || ac != c || aa != alpha || as != 1 {
			t.Errorf("%v: Damp(Absolute) = %v, %v, %v, %v; want c, alpha, 1, nil", k, ac, aa, as, err)
		}
		// The original curvature still has the network's decay.
		var orig mat.SymDense
		c.Dense(&orig)
		if math.Abs(orig.At(0, 0)-(2+lambda)) > 1e-14 {
			t.Errorf("%v: WithDecay changed the original: C_00 = %v", k, orig.At(0, 0))
		}
	}
}

// TestRelativeDampingScaleInvariance: a curvature c times another has,
// under relative damping, an inverse 1/c times the other's, so OBS's
// saliencies differ by the factor c and rank alike.
func TestRelativeDampingScaleInvariance(t *testing.T) {
	f := randomFake(6, 20, 0.3, 1)
	g := randomFake(6, 20, 0.3, 1)
	g.rows.Scale(math.Sqrt(0.01), g.rows) // data part 0.01 times f's
	var fi, gi mat.SymDense
	for _, x := range []struct {
		c   *fakeRankOne
		dst *mat.SymDense
	}{{f, &fi}, {g, &gi}} {
		c, a, _, err := Damp(Relative, x.c, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(RankOne); !ok {
			t.Fatalf("Damp of a RankOne returned %T", c)
		}
		if err := InverseDirect(x.dst, c.(RankOne), a); err != nil {
			t.Fatal(err)
		}
	}
	fi.ScaleSym(1/0.01, &fi)
	if !mat.EqualApprox(&fi, &gi, 1e-9*mat.Norm(&gi, 2)) {
		t.Errorf("relative damping is not scale invariant:\n%v\n%v", mat.Formatted(&fi), mat.Formatted(&gi))
	}
}

func TestEffectiveSamples(t *testing.T) {
	net := lineNet(t, 1, 0, 0)
	// Equal norms: x = +-1, residuals +-1: ||g_p||^2 = 2 each, n_eff = P.
	X := [][]float64{{1}, {-1}, {1}, {-1}}
	T := [][]float64{{0}, {0}, {2}, {-2}}
	if got, err := EffectiveSamples(net, X, T); err != nil || math.Abs(got-4) > 1e-12 {
		t.Errorf("equal norms: n_eff = %v, %v; want 4", got, err)
	}
	// One non-zero gradient: every target fitted but one.
	T = [][]float64{{1}, {-1}, {3}, {-1}}
	if got, err := EffectiveSamples(net, X, T); err != nil || math.Abs(got-1) > 1e-12 {
		t.Errorf("one gradient: n_eff = %v, %v; want 1", got, err)
	}
	// Norms^2 5 and 1 (the by-hand case above): 36/26.
	net = lineNet(t, 0.5, 0, 0)
	if got, err := EffectiveSamples(net, [][]float64{{2}, {0}}, [][]float64{{0}, {1}}); err != nil || math.Abs(got-36.0/26) > 1e-12 {
		t.Errorf("norms 5, 1: n_eff = %v, %v; want %v", got, err, 36.0/26)
	}
	// A perfect fit has no gradient to count.
	if got, _ := EffectiveSamples(net, [][]float64{{2}, {0}}, [][]float64{{1}, {0}}); !math.IsNaN(got) {
		t.Errorf("perfect fit: n_eff = %v, want NaN", got)
	}
}

func TestDampErrors(t *testing.T) {
	f := randomFake(3, 5, 0.1, 2)
	if _, _, _, err := Damp(Relative, f, 0); err == nil {
		t.Error("alpha 0 accepted")
	}
	f.rows.Zero()
	if _, _, _, err := Damp(Relative, f, 1e-3); err == nil {
		t.Error("relative damping of a zero data part accepted")
	}
	if d, err := ParseDamping(" Relative "); err != nil || d != Relative || d.String() != "relative" {
		t.Errorf("ParseDamping = %v, %v", d, err)
	}
	if _, err := ParseDamping("scaled"); err == nil {
		t.Error("ParseDamping accepted scaled")
	}
}
