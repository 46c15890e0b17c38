package main

import (
	"testing"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// The cost model counts what the run does: a step per deletion (per Group
// deletions), a build per entry of the schedule (one for one-shot), no
// per-step measurement in one-shot, and with --granularity unit a step per
// hidden unit removed, not per parameter.
func TestCostOfCounts(t *testing.T) {
	net, err := model.New(model.Spec{Sizes: []int{20, 10, 6, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	n := len(net.Params) // 210 + 66 + 21 = 297
	cfg := prune.Config{Method: prune.OBS, Curvature: hessian.GGN, RecomputeFraction: 0.05, Sparsity: 0.5}
	target := cfg.KeepTarget(n)
	rc := costOf(&cfg, net, 100, 0, 100, n, target, false)
	if rc.steps != n-target || len(rc.builds) != len(cfg.Builds(n, target)) || rc.measure == 0 {
		t.Errorf("step by step: %d steps, %d builds, measure %v; want %d, %d, > 0", rc.steps, len(rc.builds), rc.measure, n-target, len(cfg.Builds(n, target)))
	}
	one := costOf(&cfg, net, 100, 0, 100, n, target, true)
	if one.steps != n-target || len(one.builds) != 1 || one.measure != 0 || one.total() >= rc.total() {
		t.Errorf("one-shot: %d steps, %d builds, measure %v, total %v (step by step %v)", one.steps, len(one.builds), one.measure, one.total(), rc.total())
	}
	cfg.Group = 4
	if g := costOf(&cfg, net, 100, 0, 100, n, target, false); g.steps != (n-target+3)/4 {
		t.Errorf("--group 4: %d steps, want %d", g.steps, (n-target+3)/4)
	}
	cfg.Group = 0
	cfg.Granularity = prune.Granularity{Kind: prune.ByUnit}
	u := costOf(&cfg, net, 100, 0, 100, n, target, false)
	if u.steps != 8 || u.deletions != 8 || !u.unit { // half of the 16 hidden units
		t.Errorf("--granularity unit: %d steps, %d deletions; want 8 units", u.steps, u.deletions)
	}
	cfg.Granularity = prune.Granularity{}
	cfg.Structure = prune.Blocks{Size: 16}
	if b := costOf(&cfg, net, 100, 0, 100, n, target, true); b.builds[0] >= one.builds[0] {
		t.Errorf("block:16 build %v not below the dense build %v", b.builds[0], one.builds[0])
	}
}
