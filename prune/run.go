package prune

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/model"
)

// ErrStopped is returned when Config.Stop asked the run to end.
var ErrStopped = errors.New("prune: stopped")

// evaluator measures a network on the training set X, T and, if TestX is
// not nil, the held-out set TestX, TestT.
type evaluator struct {
	net          *model.MLP
	x, t         [][]float64
	testX, testT [][]float64
	ws           *model.Workspace
	grad         []float64
	classes      bool // training targets are 0/1 classes
}

func newEvaluator(net *model.MLP, X, T, testX, testT [][]float64) *evaluator {
	ev := &evaluator{net: net, x: X, t: T, testX: testX, testT: testT, ws: net.NewWorkspace(), grad: make([]float64, len(net.Params)), classes: true}
	for _, row := range T {
		for _, v := range row {
			if v != 0 && v != 1 {
				ev.classes = false
			}
		}
	}
	return ev
}

func (ev *evaluator) trainError() float64 {
	return ev.net.Error(ev.ws, ev.x, ev.t)
}

func (ev *evaluator) snapshot() Snapshot { return ev.measure(true) }

// measure is snapshot, with the gradient only if grad is set (GradNorm is
// NaN without: a forward pass per pattern instead of two passes and the
// gradient's sums, the same error and accuracies).
func (ev *evaluator) measure(grad bool) Snapshot {
	m := ev.net
	s := Snapshot{Params: m.NumFree(), TrainAccuracy: math.NaN(), TestError: math.NaN(), TestAccuracy: math.NaN(), GradNorm: math.NaN()}
	if !grad {
		e, right := m.ErrorAccuracy(ev.ws, ev.x, ev.t)
		s.TrainError = e
		if ev.classes {
			s.TrainAccuracy = float64(right) / float64(len(ev.x))
		}
	} else if ev.classes { // Grad and Accuracy from one pass (the same numbers)
		e, right := m.GradAccuracy(ev.ws, ev.grad, ev.x, ev.t)
		s.TrainError, s.TrainAccuracy = e, float64(right)/float64(len(ev.x))
	} else {
		s.TrainError = m.Grad(ev.ws, ev.grad, ev.x, ev.t)
	}
	if grad {
		s.GradNorm = floats.Norm(ev.grad, 2)
	}
	if ev.testX != nil {
		e, right := m.ErrorAccuracy(ev.ws, ev.testX, ev.testT)
		s.TestError = e
		if ev.classes {
			s.TestAccuracy = float64(right) / float64(len(ev.testX))
		}
	}
	return s
}

// checkData checks that the training set X, T and the held-out set testX,
// testT, if any, fit net.
func checkData(net *model.MLP, X, T, testX, testT [][]float64) error {
	if err := net.CheckData(X, T); err != nil {
		return err
	}
	if testX != nil || testT != nil {
		if err := net.CheckData(testX, testT); err != nil {
			return fmt.Errorf("test set: %w", err)
		}
	}
	return nil
}

func checkFinite(what string, step int, vs ...float64) error {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("prune: %s became %v at step %d; raise alpha or retrain the model", what, v, step)
		}
	}
	return nil
}

// Run prunes net in place on the training set X, T (P rows each) under cfg,
// measuring every step on X, T and, if cfg.TestX is not nil, on the
// held-out set cfg.TestX, cfg.TestT. net must be free of NaN and fit the
// data. On error net holds the state after the last completed step. It is
// Prune with the plan cfg describes (Config.Plan) and the step-by-step
// measurements.
func Run(net *model.MLP, X, T [][]float64, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Candidates != nil || (cfg.PerLayer && cfg.Granularity.Kind != ByUnit && cfg.Granularity.Kind != ByFilter) || len(cfg.Checkpoints) > 0 {
		return nil, fmt.Errorf("prune: candidates, per-layer counts and checkpoints apply to one-shot pruning only")
	}
	p := cfg.Plan()
	p.Measure = true
	res, err := Prune(PollContext(cfg.Stop), net, X, T, p)
	if err != nil && errors.Is(err, context.Canceled) {
		err = ErrStopped
	}
	return res, err
}

// KeepTarget returns the fewest parameters Keep and Sparsity allow a
// network of n parameters to keep (0 without either rule).
func (c *Config) KeepTarget(n int) int {
	keep := c.Keep
	if c.Sparsity > 0 {
		// Stop before the pruned fraction would exceed Sparsity.
		if k := n - int(math.Floor(c.Sparsity*float64(n)+1e-9)); k > keep {
			keep = k
		}
	}
	return keep
}

// unmetAtStart returns why the network breaks an error or accuracy rule
// before any deletion (then nothing is pruned), or "".
func unmetAtStart(cfg *Rules, s Snapshot) string {
	switch {
	case cfg.MaxError > 0 && s.TrainError > cfg.MaxError:
		return fmt.Sprintf("nothing pruned: the training error before pruning, %.3g, is already above the bound %.3g", s.TrainError, cfg.MaxError)
	case cfg.MinAccuracy > 0 && s.TrainAccuracy < cfg.MinAccuracy:
		return fmt.Sprintf("nothing pruned: the training accuracy before pruning, %.4g, is already below the bound %.4g", s.TrainAccuracy, cfg.MinAccuracy)
	}
	return ""
}

// breaks returns why step s violates a stopping rule, or "".
func breaks(cfg *Rules, s Step) string {
	switch {
	case cfg.MaxPredicted > 0 && s.Predicted > cfg.MaxPredicted:
		return fmt.Sprintf("have a predicted increase %.3g above %.3g", s.Predicted, cfg.MaxPredicted)
	case cfg.MaxPredictedRatio > 0 && s.Predicted > cfg.MaxPredictedRatio*s.EBefore:
		return fmt.Sprintf("have a predicted increase %.3g above %g times E = %.3g", s.Predicted, cfg.MaxPredictedRatio, s.EBefore)
	case cfg.MaxError > 0 && s.TrainError > cfg.MaxError:
		return fmt.Sprintf("raise the training error to %.3g, above %.3g", s.TrainError, cfg.MaxError)
	case cfg.MinAccuracy > 0 && s.TrainAccuracy < cfg.MinAccuracy:
		return fmt.Sprintf("drop the training accuracy to %.4g, below %.4g", s.TrainAccuracy, cfg.MinAccuracy)
	}
	return ""
}
