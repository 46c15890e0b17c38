package prune

import (
	"context"
	"math"

	"github.com/obs-toolkit/obs/model"
)

// MagnitudePruner removes the parameters of smallest magnitude: the
// saliency of a group is the Euclidean norm of its weights (|w_q| for one
// parameter; Torch-Pruning's default group importance), or with L1 the sum
// of its magnitudes, with no update and no prediction. It needs no
// curvature.
type MagnitudePruner struct {
	// L1 scores a group by the L1 norm of its weights instead of the L2.
	L1 bool
}

func (p MagnitudePruner) String() string {
	if p.L1 {
		return "magnitude-l1"
	}
	return "magnitude"
}

// Prepare returns the (stateless) scorer.
func (p MagnitudePruner) Prepare(context.Context, *model.MLP, Calibration) (Scorer, error) {
	return magnitudeScorer{l1: p.L1}, nil
}

type magnitudeScorer struct{ l1 bool }

func (m magnitudeScorer) Saliency(w []float64, G []int) float64 {
	if len(G) == 1 {
		return math.Abs(w[G[0]])
	}
	s := 0.0
	if m.l1 {
		for _, q := range G {
			s += math.Abs(w[q])
		}
		return s
	}
	for _, q := range G {
		s += w[q] * w[q]
	}
	return math.Sqrt(s)
}

func (magnitudeScorer) Step([]float64, []int) (Update, error) {
	return Update{Predicted: math.NaN()}, nil
}

func (magnitudeScorer) Remove([]int) ([]int, error) { return nil, nil }
