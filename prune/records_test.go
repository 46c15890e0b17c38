package prune

import (
	"strings"
	"testing"
)

// The table of obs saliency: the lowest saliencies first, ties in the
// analysis's order, at most top rows, and every candidate when top exceeds
// them.
func TestWriteCandidatesTable(t *testing.T) {
	a := &Analysis{Method: "obs-ggn", E: 0.125, GradNorm: 3e-9, Candidates: []Candidate{
		{Name: "w1", Weight: 1, Saliency: 3, Predicted: 3, Actual: 2.5, Retrained: 2},
		{Name: "w2", Weight: -2, Saliency: 1, Predicted: 1, Actual: 0.5, Retrained: 0.25},
		{Name: "w3", Weight: 0.5, Saliency: 1, Predicted: 1, Actual: 1.5, Retrained: 1},
	}}
	head := "obs-ggn at E = 0.125, ||grad E|| = 3e-09\n" +
		"  parameter              weight     saliency    predicted       actual    retrained\n"
	rows := []string{
		"  w2                         -2            1            1          0.5         0.25\n",
		"  w3                        0.5            1            1          1.5            1\n",
		"  w1                          1            3            3          2.5            2\n",
	}
	for _, c := range []struct{ top, rows int }{{2, 2}, {10, 3}, {0, 0}} {
		var b strings.Builder
		if err := WriteCandidatesTable(&b, a, c.top); err != nil {
			t.Fatal(err)
		}
		if want := head + strings.Join(rows[:c.rows], ""); b.String() != want {
			t.Errorf("top %d:\n%s\nwant\n%s", c.top, b.String(), want)
		}
	}
	if a.Candidates[0].Name != "w1" {
		t.Error("WriteCandidatesTable reordered the analysis's candidates")
	}
}

// StepHeader is a copy: changing it changes no file WriteStepsCSV writes.
func TestStepHeaderIsACopy(t *testing.T) {
	h := StepHeader()
	h[0] = "changed"
	var b strings.Builder
	if err := WriteStepsCSV(&b, "r", nil, true); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); got != strings.Join(StepHeader(), ",") || strings.HasPrefix(got, "changed") {
		t.Errorf("header %q after changing a copy", got)
	}
}
