package resources

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
	rc := CostOf(&cfg, net, 100, 0, 100, n, target, false)
	if rc.Steps != n-target || len(rc.Builds) != len(cfg.Builds(n, target)) || rc.Measure == 0 {
		t.Errorf("step by step: %d steps, %d builds, measure %v; want %d, %d, > 0", rc.Steps, len(rc.Builds), rc.Measure, n-target, len(cfg.Builds(n, target)))
	}
	one := CostOf(&cfg, net, 100, 0, 100, n, target, true)
	if one.Steps != n-target || len(one.Builds) != 1 || one.Measure != 0 || one.Total() >= rc.Total() {
		t.Errorf("one-shot: %d steps, %d builds, measure %v, total %v (step by step %v)", one.Steps, len(one.Builds), one.Measure, one.Total(), rc.Total())
	}
	cfg.Group = 4
	if g := CostOf(&cfg, net, 100, 0, 100, n, target, false); g.Steps != (n-target+3)/4 {
		t.Errorf("--group 4: %d steps, want %d", g.Steps, (n-target+3)/4)
	}
	cfg.Group = 0
	cfg.Granularity = prune.Granularity{Kind: prune.ByUnit}
	u := CostOf(&cfg, net, 100, 0, 100, n, target, false)
	if u.Steps != 8 || u.Deletions != 8 || !u.Unit { // half of the 16 hidden units
		t.Errorf("--granularity unit: %d steps, %d deletions; want 8 units", u.Steps, u.Deletions)
	}
	cfg.Granularity = prune.Granularity{}
	cfg.Structure = prune.Blocks{Size: 16}
	if b := CostOf(&cfg, net, 100, 0, 100, n, target, true); b.Builds[0] >= one.Builds[0] {
		t.Errorf("block:16 build %v not below the dense build %v", b.Builds[0], one.Builds[0])
	}
}
