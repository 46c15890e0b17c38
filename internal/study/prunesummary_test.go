package study

import (
	"testing"

	"github.com/obs-toolkit/obs/prune"
)

// PruneSummary.Structured compacts a network whose units were removed and
// states its sizes before and after; for N:M it states the sizes of the
// network itself, and for weights it changes nothing.
func TestPruneSummaryStructured(t *testing.T) {
	m, _, _ := layerNet(t) // 8-6-5-3
	before := prune.SizeFiguresOf(m)
	groups, _ := prune.UnitGroups(m, false)
	for _, q := range append(groups[0], groups[7]...) { // unit 0 of layer 1, unit 1 of layer 2
		m.Params[q], m.Pruned[q] = 0, true
	}
	var s PruneSummary
	if got := s.Structured(m, &prune.Config{}, before); got != m || s.Granularity != "" || s.Before != nil || s.After != nil {
		t.Errorf("weights: %+v", s)
	}
	cfg := &prune.Config{Granularity: prune.Granularity{Kind: prune.ByUnit}, PerLayer: true}
	small := s.Structured(m, cfg, before)
	if small == m || !s.Compacted || s.CompactedParams != small.NumFree() || s.Allocation != "per-layer" || s.Granularity != "unit" ||
		s.Before.HiddenUnits != 11 || s.After.HiddenUnits != 9 || s.After.Arch != "8-5-4-3" {
		t.Errorf("units: %+v, before %+v, after %+v", s, s.Before, s.After)
	}
	s = PruneSummary{}
	nm := &prune.Config{Granularity: prune.Granularity{Kind: prune.ByNM, N: 2, M: 4}}
	if got := s.Structured(m, nm, before); got != m || s.Compacted || s.Allocation != "" || s.After.HiddenUnits != 11 || s.Granularity != "2:4" {
		t.Errorf("N:M: %+v, after %+v", s, s.After)
	}
}
