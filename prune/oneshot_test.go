package prune

import (
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
	}
	if _, err := OneShot(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS}); err == nil {
		t.Error("no target: want an error")
	}
	if _, err := OneShot(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS, Sparsity: 0.5, Recompute: 1}); err == nil {
		t.Error("recompute in one shot: want an error")
	}
}
