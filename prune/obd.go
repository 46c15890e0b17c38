package prune

import (
	"context"
	"fmt"
	"math"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// OBDPruner is Optimal Brain Damage (LeCun, Denker & Solla, NIPS 2, 1990):
// the saliency of parameter q is 1/2 C_qq w_q^2 from the diagonal of the
// undamped curvature, a group's the sum over its parameters, the predicted
// increase is the saliency, and there is no update.
type OBDPruner struct {
	// Curvature builds C (GGN or Exact): nil is GGNDiagonal{}, the
	// Gauss–Newton diagonal alone.
	Curvature Builder
}

func (p OBDPruner) String() string { return "obd-" + p.curvature().Kind().String() }

func (p OBDPruner) curvature() Builder {
	if p.Curvature == nil {
		return GGNDiagonal{}
	}
	return p.Curvature
}

func (p OBDPruner) check() error {
	if k := p.curvature().Kind(); k != hessian.GGN && k != hessian.Exact {
		return fmt.Errorf("prune: obd uses the diagonal of ggn or exact, not %v", k)
	}
	return nil
}

// Prepare builds the curvature's diagonal.
func (p OBDPruner) Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	curv, err := p.curvature().Build(ctx, net, calib)
	if err != nil {
		return nil, err
	}
	d, pos, err := curvatureDiag(net, curv)
	if err != nil {
		return nil, err
	}
	return &obdScorer{diag: d, pos: pos}, nil
}

// curvatureDiag returns the diagonal of curv over its free parameters and
// each parameter's row (-1: not free), or an error if an entry is not
// finite.
func curvatureDiag(net *model.MLP, curv hessian.Curvature) (diag []float64, pos []int, err error) {
	pos = rowsOf(curv.Free(), len(net.Params))
	diag = make([]float64, curv.Dim())
	curv.Diag(diag)
	for r, d := range diag {
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return nil, nil, fmt.Errorf("prune: curvature diagonal is %v at parameter %s", d, net.Name(curv.Free()[r]))
		}
	}
	return diag, pos, nil
}

// rowsOf returns pos with pos[free[r]] = r and -1 elsewhere (n entries).
func rowsOf(free []int, n int) []int {
	pos := make([]int, n)
	for q := range pos {
		pos[q] = -1
	}
	for r, q := range free {
		pos[q] = r
	}
	return pos
}

type obdScorer struct {
	diag []float64
	pos  []int
}

func (s *obdScorer) Saliency(w []float64, G []int) float64 {
	v := 0.0
	for i, q := range G {
		if i == 0 {
			v = 0.5 * s.diag[s.pos[q]] * w[q] * w[q]
			continue
		}
		v += 0.5 * s.diag[s.pos[q]] * w[q] * w[q]
	}
	return v
}

func (s *obdScorer) Step(w []float64, Q []int) (Update, error) {
	return Update{Predicted: s.Saliency(w, Q)}, nil
}

func (s *obdScorer) Remove([]int) ([]int, error) { return nil, nil }
