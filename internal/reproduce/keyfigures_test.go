package reproduce

import (
	"fmt"
	"strings"
	"testing"
)

// The key figures: a MONK's problem's line with the paper's figures and
// its methods' ranges (one value where the seeds agree, "-" for none), and
// for every XOR regime and method the counts of the result.
func TestWriteKeyFigures(t *testing.T) {
	monk := &MonkResult{Seeds: 3, DataLabel: "UCI", Problems: []MonkProblem{{
		MonkSpec: MonkSpec{Problem: 3, PaperBefore: 39, PaperAfter: 4, PaperTestAccuracy: 0.972}, Arch: "17-2-1", Params: 39,
		Methods: []SequenceSummary{
			{Method: "obs-ggn", Left: Range{Median: 5, Min: 4, Max: 9, N: 3}, TestAcc: Range{Median: 0.9722, N: 3}},
			{Method: "magnitude", Left: Range{Median: 7, Min: 7, Max: 7, N: 3}, TestAcc: Range{Median: 0.5, N: 3}},
			{Method: "none", TestAcc: Range{Median: 0.25}},
		}}}}
	var b strings.Builder
	if err := WriteKeyFigures(&b, &Report{Monk: monk}); err != nil {
		t.Fatal(err)
	}
	want := "MONK's problems (UCI), 3 seeds: parameters left, median [min-max]; test accuracy median\n" +
		"  MONK-3 17-2-1, 39 params; paper 39 -> 4 at 97.2% test\n" +
		"    obs-ggn            5 [4-9]        test 97.2%\n" +
		"    magnitude          7              test 50.0%\n" +
		"    none               -              test 25.0%\n"
	if b.String() != want {
		t.Errorf("MONK's:\n%s\nwant\n%s", b.String(), want)
	}

	x := xorResult(t)
	b.Reset()
	if err := WriteKeyFigures(&b, &Report{XOR: x}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, fmt.Sprintf("XOR, %d networks (one start each)", x.Networks)) {
		t.Errorf("XOR heading:\n%s", out)
	}
	for _, reg := range x.Regimes {
		if !strings.Contains(out, fmt.Sprintf("  decay %g: %d kept, %d local minima, %d not converged\n", reg.Decay, reg.Kept, reg.LocalMinima, reg.NotConverged)) {
			t.Errorf("no line for regime %g in\n%s", reg.Decay, out)
		}
		for _, m := range reg.Methods {
			if !strings.Contains(out, fmt.Sprintf("%d/%d correct, same as magnitude %d/%d\n", m.CorrectRetrained, m.Networks, m.AgreeMagnitude, m.Networks)) {
				t.Errorf("no line for %s in regime %g", m.Method, reg.Decay)
			}
		}
	}
}
