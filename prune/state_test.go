package prune

import (
	"context"

	"github.com/obs-toolkit/obs/model"
)

// testState is OBS's inverse at some weights, with its rows as built.
type testState struct {
	inv       InverseCurvature
	free, pos []int
}

// build prepares cfg's OBS method at net's weights on X, T.
func build(net *model.MLP, X, T [][]float64, cfg *Config) (*testState, error) {
	sc, err := cfg.pruner().Prepare(context.Background(), net, Calibration{X: X, T: T})
	if err != nil {
		return nil, err
	}
	inv := sc.(*obsScorer).inv
	return &testState{inv: inv, free: inv.Free(), pos: rowsOf(inv.Free(), len(net.Params))}, nil
}
