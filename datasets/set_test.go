package datasets

import (
	"math"
	"strings"
	"testing"
)

func TestXOR(t *testing.T) {
	s := XOR()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 4 || s.NumInputs() != 2 || s.NumTargets() != 1 {
		t.Fatalf("XOR shape %d x %d -> %d, want 4 x 2 -> 1", s.Len(), s.NumInputs(), s.NumTargets())
	}
	if s.InputNames[0] != "x1" || s.InputNames[1] != "x2" || s.TargetNames[0] != "y" {
		t.Errorf("XOR names %v -> %v, want [x1 x2] -> [y]", s.InputNames, s.TargetNames)
	}
	// Truth table of exclusive or, written out.
	want := map[[2]float64]float64{{0, 0}: 0, {0, 1}: 1, {1, 0}: 1, {1, 1}: 0}
	seen := map[[2]float64]bool{}
	for p, x := range s.Inputs {
		key := [2]float64{x[0], x[1]}
		y, ok := want[key]
		if !ok {
			t.Fatalf("XOR pattern %d: input %v not in {0,1}^2", p, x)
		}
		if seen[key] {
			t.Fatalf("XOR pattern %d: input %v repeated", p, x)
		}
		seen[key] = true
		if s.Targets[p][0] != y {
			t.Errorf("XOR(%v) = %v, want %v", x, s.Targets[p][0], y)
		}
	}
}

func TestValidate(t *testing.T) {
	good := func() *Set {
		return &Set{
			Name:        "t",
			Inputs:      [][]float64{{1, 2}, {3, 4}},
			Targets:     [][]float64{{0}, {1}},
			InputNames:  []string{"a", "b"},
			TargetNames: []string{"y"},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid set: %v", err)
	}
	for _, tc := range []struct {
		name   string
		modify func(s *Set)
		want   string
	}{
		{"no patterns", func(s *Set) { s.Inputs, s.Targets = nil, nil }, "no patterns"},
		{"no inputs", func(s *Set) { s.InputNames = nil }, "no inputs"},
		{"no targets", func(s *Set) { s.TargetNames = nil }, "no targets"},
		{"row count", func(s *Set) { s.Targets = s.Targets[:1] }, "2 input rows but 1 target rows"},
		{"ragged input", func(s *Set) { s.Inputs[1] = []float64{1} }, "len(Inputs[1]) = 1, want 2"},
		{"ragged target", func(s *Set) { s.Targets[0] = []float64{1, 2} }, "len(Targets[0]) = 2, want 1"},
		{"NaN input", func(s *Set) { s.Inputs[1][0] = math.NaN() }, "Inputs[1][0] = NaN"},
		{"Inf target", func(s *Set) { s.Targets[1][0] = math.Inf(-1) }, "Targets[1][0] = -Inf"},
	} {
		s := good()
		tc.modify(s)
		err := s.Validate()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		checkErr(t, tc.name, err, "datasets: ", tc.want)
	}
	var nilSet *Set
	if nilSet.Validate() == nil {
		t.Error("nil set: no error")
	}
}

// checkErr reports unless err is one line containing every one of want.
func checkErr(t *testing.T, name string, err error, want ...string) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("%s: error is not one line: %q", name, msg)
	}
	if !strings.HasPrefix(msg, "datasets: ") {
		t.Errorf("%s: error %q lacks the datasets: prefix", name, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not contain %q", name, msg, w)
		}
	}
}
