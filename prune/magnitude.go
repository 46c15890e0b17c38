package prune

import (
	"context"
	"math"

	"github.com/obs-toolkit/obs/model"
)

// MagnitudePruner removes the parameters of smallest magnitude: the
// saliency of a group is the Euclidean norm of its weights (|w_q| for one
// parameter; Torch-Pruning's default group importance), with no update and
// no prediction. It needs no curvature.
type MagnitudePruner struct{}

func (MagnitudePruner) String() string { return "magnitude" }

// Prepare returns the (stateless) scorer.
func (MagnitudePruner) Prepare(context.Context, *model.MLP, Calibration) (Scorer, error) {
	return magnitudeScorer{}, nil
}

type magnitudeScorer struct{}

func (magnitudeScorer) Saliency(w []float64, G []int) float64 {
	if len(G) == 1 {
		return math.Abs(w[G[0]])
	}
	s := 0.0
	for _, q := range G {
		s += w[q] * w[q]
	}
	return math.Sqrt(s)
}

func (magnitudeScorer) Step([]float64, []int) (Update, error) {
	return Update{Predicted: math.NaN()}, nil
}

func (magnitudeScorer) Remove([]int) ([]int, error) { return nil, nil }
