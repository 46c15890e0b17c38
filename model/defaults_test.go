package model

import "testing"

// A zero activation is the documented default, never a linear network, and
// "default" is not a name a file or flag may use.
func TestSpecZeroValuesAreDefaults(t *testing.T) {
	for _, c := range []struct {
		spec           Spec
		hidden, output Activation
	}{
		{Spec{Sizes: []int{2, 2, 1}}, Sigmoid, Sigmoid},
		{Spec{Sizes: []int{2, 2, 3}, Loss: CrossEntropy}, Sigmoid, Softmax},
		{Spec{Sizes: []int{2, 2, 1}, Hidden: Tanh, Output: Identity}, Tanh, Identity},
	} {
		m, err := New(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if m.Hidden != c.hidden || m.Output != c.output {
			t.Errorf("%+v: hidden %v, output %v; want %v, %v", c.spec, m.Hidden, m.Output, c.hidden, c.output)
		}
	}
	if _, err := ParseActivation("default"); err == nil {
		t.Error(`ParseActivation("default"): no error`)
	}
	for _, a := range []Activation{Identity, Sigmoid, Tanh, ReLU, Softmax} {
		if got, err := ParseActivation(a.String()); err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a, got, err)
		}
	}
}
