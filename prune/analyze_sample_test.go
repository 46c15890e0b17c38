package prune

import (
	"slices"
	"testing"
)

// SampleCandidates draws distinct free parameters, ascending, the same for
// the same seed; Analyze measures exactly the candidates given (the full
// run's rows for them) and refuses a pruned or repeated one.
func TestAnalyzeCandidates(t *testing.T) {
	net, d := xorNet(t)
	net.Prune(2)
	a := SampleCandidates(net, 4, 5)
	if len(a) != 4 || !slices.IsSorted(a) || slices.Contains(a, 2) || !slices.Equal(a, SampleCandidates(net, 4, 5)) {
		t.Fatalf("sample %v", a)
	}
	if all := SampleCandidates(net, 100, 5); !slices.Equal(all, net.Free()) {
		t.Errorf("n above NumFree: %v, want every free parameter %v", all, net.Free())
	}
	cfg := AnalyzeConfig{Config: Config{Method: OBS}}
	full, err := Analyze(net, d.Inputs, d.Targets, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Candidates = a
	part, err := Analyze(net, d.Inputs, d.Targets, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range part.Candidates {
		j := slices.IndexFunc(full.Candidates, func(f Candidate) bool { return f.Index == c.Index })
		f := full.Candidates[j]
		if c.Index != a[i] || c.Saliency != f.Saliency || c.Predicted != f.Predicted || c.Actual != f.Actual || c.Zeroed != f.Zeroed {
			t.Errorf("candidate %d: %+v, full run %+v", c.Index, c, f)
		}
	}
	for _, bad := range [][]int{{2}, {0, 0}, {-1}, {len(net.Params)}} {
		cfg.Candidates = bad
		if _, err := Analyze(net, d.Inputs, d.Targets, cfg); err == nil {
			t.Errorf("candidates %v accepted", bad)
		}
	}
}
