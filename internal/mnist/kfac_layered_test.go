package mnist

import (
	"context"
	"testing"

	"github.com/obs-toolkit/obs/prune"
)

// reproduce mnist runs OBS with K-FAC (ggn and mcfisher, KFC's factors
// for the conv layer) on a network given by its layers, one-shot, both
// allocations: each target's weight sparsity is reached and the test
// accuracy is a fraction.
func TestReproduceLayeredKFAC(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of pruning; skipped with -short")
	}
	dir := t.TempDir()
	cfg := DefaultConfig(false)
	cfg.Models = []string{saveNet(t, dir, "a.json", "conv:2:5:s=4,relu,maxpool:2,flatten,linear:10", 1)}
	cfg.Seeds, cfg.Train, cfg.Test, cfg.Calib, cfg.FTPatterns = 1, 300, 200, 100, 100
	cfg.Sparsities = []float64{0.5, 0.8}
	cfg.Methods = []string{"obs-ggn-kfac", "obs-mcfisher-kfac"}
	cfg.Gradual = nil
	cfg.Allocs = []prune.Allocation{prune.Global, prune.PerLayer}
	cfg.Allocations = []string{"global", "per-layer"}
	trained, err := LoadModels(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Reproduce(context.Background(), &cfg, trained, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Dense + 2 methods x 2 allocations x 2 targets.
	if want := 1 + 2*2*2; len(runs) != want {
		t.Fatalf("%d runs, want %d", len(runs), want)
	}
	for _, r := range runs {
		if r.Mode == "train" {
			continue
		}
		if r.Sparsity < r.Target-0.01 || r.Sparsity > r.Target+0.01 || !(r.TestAcc >= 0 && r.TestAcc <= 1) {
			t.Errorf("%+v: sparsity %v for target %v", r, r.Sparsity, r.Target)
		}
	}
}
