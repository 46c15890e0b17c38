package prune

import (
	"math"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// The held-out set of Config.TestX, TestT is measured at the start and the
// end of Run and OneShot (checked against the network's own Error and
// Accuracy on those rows), is absent (NaN) when nil, and is checked against
// the network like the training set.
func TestHeldOutSet(t *testing.T) {
	m, s := smallNet(t)
	X, T := s.Inputs[:20], s.Targets[:20]
	TX, TT := s.Inputs[20:], s.Targets[20:]
	runs := map[string]func(cfg Config) (*Result, *model.MLP, error){
		"Run": func(cfg Config) (*Result, *model.MLP, error) {
			cfg.Recompute = 1
			net := m.Clone()
			res, err := Run(net, X, T, cfg)
			return res, net, err
		},
		"OneShot": func(cfg Config) (*Result, *model.MLP, error) {
			net := m.Clone()
			one, err := OneShot(net, X, T, cfg)
			if err != nil {
				return nil, net, err
			}
			return &Result{Start: one.Start, End: one.End}, net, nil
		},
	}
	for name, run := range runs {
		cfg := Config{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Sparsity: 0.5}
		none, _, err := run(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !math.IsNaN(none.Start.TestError) || !math.IsNaN(none.End.TestAccuracy) {
			t.Errorf("%s without a held-out set: test figures %+v, %+v, want NaN", name, none.Start, none.End)
		}
		cfg.TestX, cfg.TestT = TX, TT
		res, net, err := run(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ws := m.NewWorkspace()
		if want := m.Error(ws, TX, TT); res.Start.TestError != want {
			t.Errorf("%s: start test error %v, want %v", name, res.Start.TestError, want)
		}
		if want := m.Accuracy(ws, TX, TT); res.Start.TestAccuracy != want {
			t.Errorf("%s: start test accuracy %v, want %v", name, res.Start.TestAccuracy, want)
		}
		if res.End.TrainError != none.End.TrainError || res.End.Params != none.End.Params {
			t.Errorf("%s: the held-out set changed the run: end %+v, without it %+v", name, res.End, none.End)
		}
		if want := net.Error(ws, TX, TT); res.End.TestError != want {
			t.Errorf("%s: end test error %v, want the pruned network's %v", name, res.End.TestError, want)
		}
		if want := net.Accuracy(ws, TX, TT); res.End.TestAccuracy != want {
			t.Errorf("%s: end test accuracy %v, want the pruned network's %v", name, res.End.TestAccuracy, want)
		}

		cfg.TestT = TT[:5]
		if _, _, err := run(cfg); err == nil || !strings.Contains(err.Error(), "test set") {
			t.Errorf("%s with 10 test inputs and 5 targets: error %v, want one naming the test set", name, err)
		}
	}
}
