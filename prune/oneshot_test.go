package prune

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/obs-toolkit/obs/hessian"
)

// OneShot's heap and Run's sort make the same choices from the same
// inverse, so with no rebuild the two delete the same parameters in the same
// order and end at the same weights, bit for bit, in every structure and for
// OBD and magnitude.
func TestOneShotEqualsRunWithoutRebuild(t *testing.T) {
	m, s := smallNet(t)
	for _, cfg := range []Config{
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2},
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Structure: Blocks{Size: 8}},
		{Method: OBS, Curvature: hessian.EmpiricalFisher, Alpha: 1e-2, Structure: Layers{}, Group: 2},
		{Method: OBS, Curvature: hessian.Exact, Alpha: 1e-2, Fix: hessian.FixAbs, Structure: Diagonal{}},
		{Method: OBD, Curvature: hessian.GGN},
		{Method: Magnitude},
	} {
		cfg.Sparsity = 0.8
		run, rw := runStructure(t, m, s, cfg)
		net := m.Clone()
		one, err := OneShot(net, s.Inputs, s.Targets, cfg)
		if err != nil {
			t.Fatalf("%s: %v", cfg.label(), err)
		}
		var order []int
		for _, st := range run.Steps {
			order = append(order, st.Indices...)
		}
		if len(order) != len(one.Removed) {
			t.Fatalf("%s: Run removed %d, OneShot %d", cfg.label(), len(order), len(one.Removed))
		}
		for i := range order {
			if order[i] != one.Removed[i] {
				t.Fatalf("%s: deletion %d is %d in Run, %d in OneShot", cfg.label(), i+1, order[i], one.Removed[i])
			}
		}
		for q := range rw {
			if rw[q] != net.Params[q] {
				t.Fatalf("%s: w[%d] = %v after Run, %v after OneShot", cfg.label(), q, rw[q], net.Params[q])
			}
		}
		if one.End.Params != run.End.Params || one.End.TrainError != run.End.TrainError {
			t.Errorf("%s: end %+v, Run %+v", cfg.label(), one.End, run.End)
		}
		// The start is measured without its gradient: the same error
		// and accuracy, no gradient norm.
		if one.Start.TrainError != run.Start.TrainError || one.Start.TrainAccuracy != run.Start.TrainAccuracy || !math.IsNaN(one.Start.GradNorm) || math.IsNaN(run.Start.GradNorm) {
			t.Errorf("%s: start %+v, Run %+v", cfg.label(), one.Start, run.Start)
		}
	}
	if _, err := OneShot(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS}); err == nil {
		t.Error("no target: want an error")
	}
	if _, err := OneShot(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS, Sparsity: 0.5, Recompute: 1}); err == nil {
		t.Error("recompute in one shot: want an error")
	}
}

// With Candidates = Weights no bias is ever deleted and the weight
// sparsity is the target's (counts rounded down, globally or per layer),
// for OBS with its update (which still moves the biases), OBD and
// magnitude.
func TestOneShotWeightsOnly(t *testing.T) {
	m, s := smallNet(t)
	w := Weights(m)
	for _, cfg := range []Config{
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Structure: Blocks{Size: 8}},
		{Method: OBS, Curvature: hessian.EmpiricalFisher, Alpha: 1e-2, Structure: Blocks{Size: 8}, PerLayer: true},
		{Method: OBD, Curvature: hessian.GGN, PerLayer: true},
		{Method: Magnitude},
	} {
		cfg.Sparsity, cfg.Candidates = 0.7, w
		net := m.Clone()
		if _, err := OneShot(net, s.Inputs, s.Targets, cfg); err != nil {
			t.Fatalf("%s: %v", cfg.label(), err)
		}
		L := net.NumLayers()
		weights, gone := make([]int, L), make([]int, L)
		biasMoved := false
		for q, p := range net.Pruned {
			l, _, _ := net.Locate(q)
			if !w[q] {
				if p {
					t.Fatalf("%s: bias %s deleted", cfg.label(), net.Name(q))
				}
				biasMoved = biasMoved || net.Params[q] != m.Params[q]
				continue
			}
			weights[l-1]++
			if p {
				gone[l-1]++
			}
		}
		if cfg.PerLayer {
			for l := range weights {
				if want := int(math.Floor(0.7 * float64(weights[l]))); gone[l] != want {
					t.Errorf("%s: layer %d lost %d of %d weights, want %d", cfg.label(), l+1, gone[l], weights[l], want)
				}
			}
		} else if all, g := weights[0]+weights[1], gone[0]+gone[1]; g != int(math.Floor(0.7*float64(all))) {
			t.Errorf("%s: %d of %d weights deleted, want floor(0.7 x %d)", cfg.label(), g, all, all)
		}
		if (cfg.Method == OBS) != biasMoved {
			t.Errorf("%s: biases moved %v, want %v (only OBS's update moves them)", cfg.label(), biasMoved, cfg.Method == OBS)
		}
	}
	if _, err := OneShot(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS, Keep: 3, PerLayer: true}); err == nil {
		t.Error("per-layer without a sparsity: want an error")
	}
	if _, err := Run(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS, Sparsity: 0.5, Candidates: w}); err == nil {
		t.Error("Run with candidates: want an error")
	}
}

// The state OneShot reports at each checkpoint is bit for bit the end of a
// separate run to that sparsity: globally for every structure, per layer
// where no block spans two layers (Layers, Diagonal).
func TestOneShotCheckpointsEqualSeparateRuns(t *testing.T) {
	m, s := smallNet(t)
	targets := []float64{0.3, 0.5, 0.8}
	for _, cfg := range []Config{
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Structure: Blocks{Size: 8}},
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Candidates: Weights(m)},
		{Method: OBS, Curvature: hessian.EmpiricalFisher, Alpha: 1e-2, Structure: Layers{}, PerLayer: true, Candidates: Weights(m)},
		{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-2, Structure: Diagonal{}, PerLayer: true},
		{Method: OBD, Curvature: hessian.GGN, PerLayer: true, Candidates: Weights(m)},
		{Method: Magnitude},
	} {
		net := m.Clone()
		var seen [][]float64
		cp := cfg
		cp.Sparsity, cp.Checkpoints = 0.8, targets
		cp.Checkpoint = func(i int) { seen = append(seen, slices.Clone(net.Params)) }
		if _, err := OneShot(net, s.Inputs, s.Targets, cp); err != nil {
			t.Fatalf("%s: %v", cfg.label(), err)
		}
		if len(seen) != len(targets) {
			t.Fatalf("%s: %d checkpoints reported, want %d", cfg.label(), len(seen), len(targets))
		}
		for i, sp := range targets {
			one := m.Clone()
			c := cfg
			c.Sparsity = sp
			if _, err := OneShot(one, s.Inputs, s.Targets, c); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(one.Params, seen[i]) {
				t.Errorf("%s: checkpoint %g differs from a separate run", cfg.label(), sp)
			}
		}
	}
	if _, err := OneShot(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS, Sparsity: 0.5, Checkpoints: []float64{0.6}}); err == nil {
		t.Error("checkpoint beyond the sparsity: want an error")
	}
}

// OneShotResult.Result carries every field Run's Result has in common with
// it, the fix report as the only one, and says how the run stopped.
func TestOneShotResultAsResult(t *testing.T) {
	m, s := smallNet(t)
	for _, cfg := range []Config{
		{Method: OBS, Curvature: hessian.Exact, Alpha: 1e-2, Fix: hessian.FixAbs, Sparsity: 0.5},
		{Method: Magnitude, Keep: 20},
	} {
		one, err := OneShot(m.Clone(), s.Inputs, s.Targets, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res := one.Result()
		if res.Method != one.Method || res.Alpha != one.Alpha || !sameSnapshot(res.Start, one.Start) || !sameSnapshot(res.End, one.End) ||
			!slices.Equal(res.Removed, one.Removed) || !sameFloat(res.Predicted, one.Predicted) ||
			res.StopReason != OneShotStopReason || res.Steps != nil || res.Rejected != nil {
			t.Errorf("%s: Result %+v from %+v", cfg.label(), res, one)
		}
		switch {
		case one.FixReport == nil && res.FixReports != nil:
			t.Errorf("%s: fix reports %v without a fix", cfg.label(), res.FixReports)
		case one.FixReport != nil && (len(res.FixReports) != 1 || fmt.Sprintf("%+v", res.FixReports[0]) != fmt.Sprintf("%+v", *one.FixReport)):
			t.Errorf("%s: fix reports %v, want [%v]", cfg.label(), res.FixReports, *one.FixReport)
		}
		if cfg.Curvature == hessian.Exact && one.FixReport == nil {
			t.Errorf("%s: no fix report", cfg.label())
		}
	}
}

// sameSnapshot is == with NaN (the one-shot start's gradient norm) equal
// to NaN.
func sameSnapshot(a, b Snapshot) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }

// sameFloat is == with NaN equal to NaN.
func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
