package model

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/stat/distuv"
)

// elementwiseActivations are every activation a hidden layer may have,
// in the order of the help texts (activationList).
func elementwiseActivations() []Activation {
	var acts []Activation
	for _, name := range activationList {
		if a, err := ParseActivation(name); err == nil && elementwise(a) {
			acts = append(acts, a)
		}
	}
	if len(acts) != int(numActivations)-1 {
		panic("activationList does not name every element-wise activation")
	}
	return acts
}

// phi applies act to one number.
func phi(act Activation, z float64) float64 {
	a := []float64{0}
	activate(act, a, []float64{z})
	return a[0]
}

// Each activation's first and second derivatives (d1, d2) against central
// differences of the activation and of d1. Points avoid z = 0, the kink of
// relu and leakyrelu. Steps and tolerances: central differences with
// h = 1e-6 have a truncation error of h^2 times the third derivative
// (<= 1e-12 here) and a rounding error of about eps/h ~ 1e-10 for these
// functions of order 1; a wrong term is O(1e-2). The second derivative of
// phi itself (fd.Central2nd, h = 1e-4: rounding ~eps/h^2 ~ 1e-8) checks d2
// against phi directly, not only against d1.
func TestActivationDerivativesMatchFiniteDifferences(t *testing.T) {
	points := []float64{-4.1, -2.3, -1, -0.37, -0.05, 0.08, 0.5, 1.2, 2.7, 5.3}
	for _, act := range elementwiseActivations() {
		for _, z := range points {
			a := phi(act, z)
			f := func(z float64) float64 { return phi(act, z) }
			g := func(z float64) float64 { return d1Any(act, z, phi(act, z)) }
			want1 := fd.Derivative(f, z, &fd.Settings{Formula: fd.Central, Step: 1e-6})
			if got := d1Any(act, z, a); !near(got, want1, 1e-7) {
				t.Errorf("%v'(%v) = %v, finite differences %v", act, z, got, want1)
			}
			want2 := fd.Derivative(g, z, &fd.Settings{Formula: fd.Central, Step: 1e-6})
			if got := d2Any(act, z, a); !near(got, want2, 1e-7) {
				t.Errorf("%v''(%v) = %v, finite differences of %v' %v", act, z, got, act, want2)
			}
			want2f := fd.Derivative(f, z, &fd.Settings{Formula: fd.Central2nd, Step: 1e-4})
			if got := d2Any(act, z, a); !near(got, want2f, 1e-6) {
				t.Errorf("%v''(%v) = %v, second finite differences %v", act, z, got, want2f)
			}
		}
	}
}

// The new activations against independent definitions: GELU as z Phi(z)
// with gonum's normal distribution function, its tanh form within the
// approximation's known error (below 5e-4 everywhere, Hendrycks & Gimpel
// 2016), SiLU as z / (1 + e^-z) and LeakyReLU with slope 0.01 below 0.
func TestNewActivationValues(t *testing.T) {
	for z := -6.0; z <= 6; z += 0.25 {
		if got, want := phi(GELU, z), z*distuv.UnitNormal.CDF(z); !near(got, want, 1e-15) {
			t.Errorf("gelu(%v) = %v, z Phi(z) = %v", z, got, want)
		}
		if got, want := phi(GELUTanh, z), phi(GELU, z); math.Abs(got-want) > 5e-4 {
			t.Errorf("gelu-tanh(%v) = %v, gelu %v: beyond the approximation's error", z, got, want)
		}
		if got, want := phi(SiLU, z), z/(1+math.Exp(-z)); !near(got, want, 1e-15) {
			t.Errorf("silu(%v) = %v, want %v", z, got, want)
		}
		want := z
		if z < 0 {
			want = 0.01 * z
		}
		if got := phi(LeakyReLU, z); got != want {
			t.Errorf("leakyrelu(%v) = %v, want %v", z, got, want)
		}
	}
}

// Every hidden activation parses from its name, and HiddenActivations (the
// help and error text) names exactly these.
func TestHiddenActivationNames(t *testing.T) {
	var names []string
	for _, act := range elementwiseActivations() {
		got, err := ParseActivation(act.String())
		if err != nil || got != act {
			t.Errorf("ParseActivation(%q) = %v, %v", act.String(), got, err)
		}
		if err := (Spec{Sizes: []int{2, 3, 1}, Hidden: act}).Validate(); err != nil {
			t.Errorf("hidden %v: %v", act, err)
		}
		names = append(names, act.String())
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if HiddenActivations != want {
		t.Errorf("HiddenActivations = %q, want %q", HiddenActivations, want)
	}
	if err := (Spec{Sizes: []int{2, 3, 1}, Hidden: Softmax}).Validate(); err == nil {
		t.Error("softmax accepted as a hidden activation")
	}
}
