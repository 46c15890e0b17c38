package model

import (
	"strings"
	"testing"
)

// A zero activation is the documented default, never a linear network;
// every Activation value is an activation with a name that parses back,
// and "default" is not a name a file or flag may use.
func TestSpecZeroValuesAreDefaults(t *testing.T) {
	var zero Activation
	if zero != Sigmoid || DefaultHidden != Sigmoid || zero.String() != "sigmoid" {
		t.Errorf("zero Activation is %v, want sigmoid (DefaultHidden)", zero)
	}
	for _, c := range []struct {
		spec           Spec
		hidden, output Activation
	}{
		{Spec{Sizes: []int{2, 2, 1}}, Sigmoid, Sigmoid},
		{Spec{Sizes: []int{2, 2, 1}, Loss: BinaryCrossEntropy}, Sigmoid, Sigmoid},
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
	for a := Activation(0); a < numActivations; a++ {
		if got, err := ParseActivation(a.String()); err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a, got, err)
		}
	}
	// The message lists the names in their documented order, as before the
	// zero value became sigmoid.
	_, err := ParseActivation("swish")
	if want := "(want identity, sigmoid, tanh, relu, softmax, leakyrelu, gelu, gelu-tanh or silu)"; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("ParseActivation(swish) error %v, want one ending in %s", err, want)
	}
}

// A sigmoid output named with ce is an error (ValidateGiven, model files),
// while the zero Output of a Spec stands for softmax (Validate, New).
func TestSigmoidOutputWithCrossEntropy(t *testing.T) {
	s := Spec{Sizes: []int{2, 2, 3}, Output: Sigmoid, Loss: CrossEntropy}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v; the zero Output is ce's softmax", err)
	}
	err := s.ValidateGiven()
	if err == nil || err.Error() != "model: loss ce needs a softmax output, not sigmoid" {
		t.Errorf("ValidateGiven: %v, want the softmax error", err)
	}
	m, err := New(Spec{Sizes: []int{2, 2, 3}, Loss: CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := m.ToFile(Provenance{}, nil).Encode(&b); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	if _, _, err := ParseFile([]byte(good), "m.json"); err != nil {
		t.Fatalf("the file of a ce network: %v", err)
	}
	bad := strings.Replace(good, `"output": "softmax"`, `"output": "sigmoid"`, 1)
	if bad == good {
		t.Fatalf("no output field to replace in %s", good)
	}
	if _, _, err := ParseFile([]byte(bad), "m.json"); err == nil || !strings.Contains(err.Error(), "needs a softmax output, not sigmoid") {
		t.Errorf("a ce model file with a sigmoid output: %v, want the softmax error", err)
	}
}

// Momentum and the polish: zero is the documented default, none is said by
// NoMomentum and NoPolish, and a negative value (the old "none") is an
// error, never a silent choice.
func TestMomentumAndPolishZeroValues(t *testing.T) {
	for _, c := range []struct {
		set        TrainSettings
		mu         float64
		polish     int
		wantErrSub string
	}{
		{TrainSettings{}, DefaultMomentum, DefaultPolishIter, ""},
		{TrainSettings{Momentum: 0.5, PolishIter: 7}, 0.5, 7, ""},
		{TrainSettings{NoMomentum: true, NoPolish: true}, 0, 0, ""},
		{TrainSettings{Momentum: -1}, 0, 0, "momentum -1"},
		{TrainSettings{Momentum: 1}, 0, 0, "momentum 1"},
		{TrainSettings{Momentum: 0.5, NoMomentum: true}, 0, 0, "0 with NoMomentum"},
		{TrainSettings{PolishIter: -1}, 0, 0, "polish iterations -1"},
		{TrainSettings{PolishIter: 3, NoPolish: true}, 0, 0, "0 with NoPolish"},
	} {
		s := c.set
		err := s.resolve()
		if c.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrSub) {
				t.Errorf("%+v: error %v, want one with %q", c.set, err, c.wantErrSub)
			}
			continue
		}
		if err != nil || s.Momentum != c.mu || s.PolishIter != c.polish {
			t.Errorf("%+v: resolved momentum %v, polish %d, %v; want %v, %d", c.set, s.Momentum, s.PolishIter, err, c.mu, c.polish)
		}
	}
	for _, c := range []struct {
		set MiniBatchSettings
		mu  float64
		ok  bool
	}{
		{MiniBatchSettings{Optimizer: SGD}, DefaultMomentum, true},
		{MiniBatchSettings{Optimizer: SGD, NoMomentum: true}, 0, true},
		{MiniBatchSettings{Optimizer: SGD, Momentum: -1}, 0, false},
		{MiniBatchSettings{Optimizer: SGD, Momentum: 0.3, NoMomentum: true}, 0, false},
	} {
		s := c.set
		err := s.resolve()
		if (err == nil) != c.ok || (c.ok && s.Momentum != c.mu) {
			t.Errorf("%+v: momentum %v, error %v; want %v (ok %v)", c.set, s.Momentum, err, c.mu, c.ok)
		}
	}
}
