package model

import (
	"fmt"
	"math/rand/v2"
)

// RestartsResult is the outcome of TrainRestarts.
type RestartsResult struct {
	// Best is the result of the chosen run, and BestRun its 0-based index.
	Best    TrainResult
	BestRun int
	// Errors lists every run's final E, in order.
	Errors []float64
}

// TrainRestarts trains copies of m from restarts initial weights drawn in
// turn from rng (m.Init) and returns the copy with the lowest final E, the
// first on ties. m itself is not changed. Small networks have local minima
// (2-2-1 on XOR has them at E = 1/16 and 1/12), so one start is not enough.
// s.Progress, if set, sees every run's iterations; s.Stop ends the search
// after the run in progress.
func TrainRestarts(m *MLP, X, T [][]float64, s *TrainSettings, rng *rand.Rand, restarts int) (*MLP, RestartsResult, error) {
	if restarts < 1 {
		return nil, RestartsResult{}, fmt.Errorf("model: restarts %d must be >= 1", restarts)
	}
	var best *MLP
	res := RestartsResult{Errors: make([]float64, 0, restarts)}
	for r := 0; r < restarts; r++ {
		cand := m.Clone()
		cand.Init(rng)
		tr, err := Train(cand, X, T, s)
		if err != nil {
			return nil, res, fmt.Errorf("restart %d: %w", r+1, err)
		}
		res.Errors = append(res.Errors, tr.E)
		if best == nil || tr.E < res.Best.E {
			best, res.Best, res.BestRun = cand, tr, r
		}
		if s != nil && s.Stop != nil && s.Stop() {
			break
		}
	}
	return best, res, nil
}
