package prune

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// The layer-wise damping: zero is DefaultLayerDamp, NoDamp is none, and a
// negative value (the old "none") is an error in every layer-wise method.
func TestLayerDampZeroValues(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{6, 5, 3}, Hidden: model.Tanh, Output: model.Identity})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(2, 3)))
	_, X := linearLayer(t, 6, 1, 40, 9)
	for _, c := range []struct {
		set  LayerwiseSettings
		damp float64
		err  string
	}{
		{LayerwiseSettings{}, DefaultLayerDamp, ""},
		{LayerwiseSettings{Damp: 0.2}, 0.2, ""},
		{LayerwiseSettings{NoDamp: true}, 0, ""},
		{LayerwiseSettings{Damp: -1}, 0, "must be a finite number >= 0"},
		{LayerwiseSettings{Damp: 0.2, NoDamp: true}, 0, "with NoDamp"},
	} {
		res, err := LayerwiseOBS(m.Clone(), X, 0.3, &c.set)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want one with %q", c.set, err, c.err)
			}
			continue
		}
		if err != nil || res.Damp != c.damp {
			t.Errorf("%+v: damping %v, %v; want %v", c.set, res.Damp, err, c.damp)
		}
	}
	calib := Calibration{X: X, T: make([][]float64, len(X))}
	for p := range calib.T {
		calib.T[p] = make([]float64, 3)
	}
	for _, method := range []Pruner{LayerOBSPruner{Damp: -1}, LayerUnitOBSPruner{Damp: -1}, LayerUnitOBSPruner{Damp: 1, NoDamp: true}} {
		if _, err := method.Prepare(context.Background(), m.Clone(), calib); err == nil {
			t.Errorf("%+v: no error", method)
		}
	}
	for _, method := range []Pruner{LayerOBSPruner{NoDamp: true}, LayerUnitOBSPruner{NoDamp: true}} {
		if _, err := method.Prepare(context.Background(), m.Clone(), calib); err != nil {
			t.Errorf("%+v: %v", method, err)
		}
	}
}
