package prune

import (
	"context"
	"slices"
	"testing"

	"github.com/obs-toolkit/obs/hessian"
)

// Config.Calib reaches the builder of every method and structure, in Run
// and OneShot: a run calibrated on the first 12 patterns deletes what a
// Plan with the same Calib deletes, and not what a run calibrated on the
// whole set deletes (the curvature of 12 patterns is another matrix).
func TestConfigCalib(t *testing.T) {
	m, s := smallNet(t)
	calib := FirstN(s.Inputs, s.Targets, 12)
	for _, cfg := range []Config{
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Inverse: Direct},
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Structure: Blocks{Size: 8}},
		{Method: OBS, Curvature: hessian.EmpiricalFisher, Alpha: 1e-2, Structure: Diagonal{}},
		{Method: OBD, Curvature: hessian.GGN},
	} {
		cfg.Sparsity = 0.6
		for _, oneShot := range []bool{false, true} {
			do := func(c Config) ([]int, []float64) {
				net := m.Clone()
				if oneShot {
					r, err := OneShot(net, s.Inputs, s.Targets, c)
					if err != nil {
						t.Fatalf("%s: %v", c.label(), err)
					}
					return r.Removed, net.Params
				}
				r, err := Run(net, s.Inputs, s.Targets, c)
				if err != nil {
					t.Fatalf("%s: %v", c.label(), err)
				}
				return r.Removed, net.Params
			}
			all, allW := do(cfg)
			with := cfg
			with.Calib = calib
			got, gotW := do(with)
			p := with.Plan()
			if oneShot {
				p.Rebuild, p.RankOnce = nil, cfg.Method != OBS
			} else {
				p.Measure = true
			}
			net := m.Clone()
			want, err := Prune(context.Background(), net, s.Inputs, s.Targets, p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want.Removed) || !slices.Equal(gotW, net.Params) {
				t.Errorf("%s (one-shot %v): Config.Calib run differs from Plan.Calib's", cfg.label(), oneShot)
			}
			if slices.Equal(got, all) && slices.Equal(gotW, allW) && cfg.Method == OBS {
				t.Errorf("%s (one-shot %v): calibrating on 12 of 30 patterns changed nothing", cfg.label(), oneShot)
			}
		}
	}
}
