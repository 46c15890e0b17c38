package prune

import (
	"os"
	"testing"
	"time"

	"github.com/obs-toolkit/obs/hessian"
)

func TestZZSpeed(t *testing.T) {
	if os.Getenv("ZZ_SPEED") == "" {
		t.Skip()
	}
	b := &testing.B{}
	sizes := []int{784, 300, 100, 10}
	if os.Getenv("ZZ_SPEED") == "mid" {
		sizes = []int{100, 300, 10}
	}
	if os.Getenv("ZZ_SPEED") == "big" {
		sizes = []int{784, 1000, 1000, 10}
	}
	m, s := benchNet(b, sizes, 1000)
	cfg := Config{Method: OBS, Curvature: hessian.GGN, Structure: Blocks{Size: 128}, Sparsity: 0.9, Candidates: Weights(m)}
	start := time.Now()
	var built time.Duration
	cfg.Rebuilt = func(free int, took time.Duration) { built = took; t.Logf("build %d free: %v", free, took) }
	res, err := OneShot(m, s.Inputs, s.Targets, cfg)
	if err != nil {
		t.Fatal(err)
	}
	all := time.Since(start)
	t.Logf("%d deletions, total %v, build %v, deletions %v = %.0f/s", len(res.Removed), all, built, all-built, float64(len(res.Removed))/(all-built).Seconds())
}
