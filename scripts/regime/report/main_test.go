package main

import (
	"strings"
	"testing"
)

// synth returns grid rows of one network at 95% where G's test accuracy is
// g(M, seed) and every other kind's is f(M, seed).
func synth(g, f func(M, seed int) float64) []row {
	var rs []row
	for _, M := range []int{250, 1000, 4000} {
		for seed := 1; seed <= 3; seed++ {
			for _, k := range kindOrder {
				acc := f(M, seed)
				if k == "ggn" {
					acc = g(M, seed)
				}
				rs = append(rs, row{Net: "mlp100", Seed: seed, Calib: M, Kind: k, Sparsity: 0.95, Acc: acc, NEffN: float64(M) * 1e-5})
			}
		}
	}
	return rs
}

func findingsOf(rs []row) string {
	ix := indexOf(rs)
	return strings.Join(findings(ix, ix.cells(), rs), "\n")
}

// The generated sentences follow the numbers: a gap on every seed that
// shrinks with M, then one cell where the seeds disagree, then a gap
// that grows with M.
func TestFindingsFollowTheNumbers(t *testing.T) {
	shrink := findingsOf(synth(func(M, s int) float64 { return 0.9 }, func(M, s int) float64 { return 0.9 - 2/float64(M) - 0.001*float64(s) }))
	for _, want := range []string{"G beats F on every seed in 3 of 3 cells", "**The G − F gap shrinks as M grows**", "(the gap falls as n_eff/n grows)"} {
		if !strings.Contains(shrink, want) {
			t.Errorf("shrinking gap: no %q in\n%s", want, shrink)
		}
	}
	mixed := findingsOf(synth(func(M, s int) float64 { return 0.9 }, func(M, s int) float64 {
		if M == 1000 && s == 2 {
			return 0.95
		}
		return 0.89
	}))
	if !strings.Contains(mixed, "G beats F on every seed in 2 of 3 cells") || !strings.Contains(mixed, "and in 1 (mlp100 95% M=1000) the seeds disagree") {
		t.Errorf("one contradicting cell:\n%s", mixed)
	}
	grow := findingsOf(synth(func(M, s int) float64 { return 0.9 }, func(M, s int) float64 { return 0.9 - 1e-5*float64(M) }))
	if !strings.Contains(grow, "**The G − F gap does not shrink as M grows**") || !strings.Contains(grow, "(the gap does not fall as n_eff/n grows)") {
		t.Errorf("growing gap:\n%s", grow)
	}
}
