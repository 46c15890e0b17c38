package prune

import (
	"context"
	"errors"
	"fmt"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// OneShotResult is the outcome of OneShot.
type OneShotResult struct {
	Method string
	Alpha  float64 // damping used (OBS)
	// Removed lists the parameters deleted, in order.
	Removed []int
	// Predicted is the sum of the predicted increases of E of every step
	// (for OBS the quadratic model's increase along the whole path; NaN for
	// magnitude).
	Predicted  float64
	Start, End Snapshot
	// FixReport says how the exact Hessian was made definite (else nil).
	FixReport *hessian.FixReport
}

// OneShot prunes net in place on the training set X, T (P rows each) to
// the target of cfg (Sparsity or Keep) in one shot: the curvature and its
// inverse are built once at the starting weights and followed by the
// downdate after every deletion, never rebuilt and with no retraining; only
// the start and the end are measured (on X, T and, if cfg.TestX is not nil,
// on cfg.TestX, cfg.TestT). This is the mode of large networks, where
// Run's per-step measurements of the training error would dominate.
//
// OBS deletes, step by step, the parameter (or Config.Group parameters)
// of smallest saliency w_q^2 / (2 [C^-1]_qq) among all blocks, kept in a
// heap, applies its update and downdates the inverse: with a
// block-diagonal Structure a step touches one block, B^2 flops plus the
// heap's log n per changed saliency. OBD, magnitude and OBS with NoUpdate
// delete the parameters of smallest saliency at the start, all at once.
// The loop fields of Config (Recompute, Retrain, MaxError, MinAccuracy,
// MaxPredicted, RemoveDead) must be zero. Progress, if set, is called after
// every deletion with the step's index, parameter, saliency, prediction
// and parameters left (the errors of the step are NaN); Stop is polled
// before every deletion.
//
// Candidates restricts the deletions (Weights: keep the biases), PerLayer
// gives every layer its own heap and count, and Checkpoints report the
// states on the way. A step's choice never depends on the target: the
// target only decides when the loop stops. So with one group (not
// PerLayer) the state at checkpoint s is, bit for bit, the end of a run to
// Sparsity s (TestOneShotCheckpointsEqualSeparateRuns). With PerLayer a run
// through the checkpoints brings every layer to each checkpoint's count
// before going on; that equals a run straight to the checkpoint when no
// block of the inverse spans two layers (Layers, Diagonal; Dense or Blocks
// couple the layers through the blocks that straddle a boundary, whose
// order can then differ).
func OneShot(net *model.MLP, X, T [][]float64, cfg Config) (*OneShotResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Recompute != 0 || cfg.Retrain != 0 || cfg.RetrainAbove != 0 || cfg.MaxError != 0 || cfg.MinAccuracy != 0 || cfg.MaxPredicted != 0 || cfg.RemoveDead {
		return nil, fmt.Errorf("prune: one-shot pruning builds once and neither retrains nor checks errors: recompute, retrain, max-error, min-accuracy, max-predicted and remove-dead must be unset")
	}
	if cfg.Sparsity == 0 && cfg.Keep == 0 && cfg.Granularity.Kind != ByNM {
		return nil, fmt.Errorf("prune: one-shot pruning needs a target: a sparsity or a number of parameters to keep")
	}
	if len(cfg.Checkpoints) > 0 {
		if cfg.Sparsity == 0 || cfg.Keep != 0 || cfg.Group > 1 {
			return nil, fmt.Errorf("prune: one-shot checkpoints need a sparsity, no number to keep and groups of 1")
		}
		for i, c := range cfg.Checkpoints {
			if !(c > 0 && c <= cfg.Sparsity) || (i > 0 && c <= cfg.Checkpoints[i-1]) {
				return nil, fmt.Errorf("prune: checkpoints %v must ascend in (0, sparsity %g]", cfg.Checkpoints, cfg.Sparsity)
			}
		}
	}
	p := cfg.Plan()
	p.Rebuild, p.Retrain = nil, Retraining{}
	p.RankOnce = cfg.Method != OBS || cfg.NoUpdate
	res, err := Prune(PollContext(cfg.Stop), net, X, T, p)
	if errors.Is(err, context.Canceled) {
		err = ErrStopped
	}
	if res == nil {
		return nil, err
	}
	one := &OneShotResult{Method: res.Method, Alpha: res.Alpha, Removed: res.Removed, Predicted: res.Predicted, Start: res.Start, End: res.End}
	if len(res.FixReports) > 0 {
		one.FixReport = &res.FixReports[0]
	}
	return one, err
}

// OneShotStopReason is the StopReason of a one-shot run's Result.
const OneShotStopReason = "one shot to the target, curvature built once"

// Result returns r in the form of Run's result, for code that reports
// both kinds of run alike: no Steps (a one-shot run measures only its
// start and end), StopReason OneShotStopReason and the fix report, if
// any, as the only FixReports.
func (r *OneShotResult) Result() *Result {
	res := &Result{Method: r.Method, Alpha: r.Alpha, Start: r.Start, End: r.End, StopReason: OneShotStopReason,
		Removed: r.Removed, Predicted: r.Predicted}
	if r.FixReport != nil {
		res.FixReports = []hessian.FixReport{*r.FixReport}
	}
	return res
}

// Weights returns the candidate set of a network's weights, its biases
// excluded (for Config.Candidates).
func Weights(net *model.MLP) []bool {
	w := make([]bool, len(net.Params))
	for q := range w {
		w[q] = !net.IsBias(q)
	}
	return w
}
